"""Fault drills: real ``livecommerce serve`` processes on one store, real aiortc peers and
channel clients, and the failures operators meet — the store killed mid-sale, a node
killed, slow clients on a busy room, a node drained by SIGTERM. docs/operations.md says
what users see in each; these tests hold the server to it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livecommerce.store import client as store_client
from livecommerce.store.decoding import decode_entries
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from tests.integration.channel_client import ChannelClient, Frame
from tests.integration.deployment import api, bearer, eventually, start_node, token, write_config
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.nodes import Node
from tests.integration.test_whip_whep import offer_of

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


async def sale_room(
    http: aiohttp.ClientSession, node: Node, quantity: int, reservation_ttl_s: int
) -> tuple[str, str]:
    """A room of alice's with one flash sale open now: (room id, sale id)."""
    anchor = token("anchor", "alice")
    status, room = await api(http, node, "POST", "/api/rooms", anchor, {"title": "Drill"})
    assert status == 201, room
    item = {"sku": "S", "title": "Scarf", "price_cents": 5000, "currency": "EUR"}
    status, product = await api(
        http, node, "POST", f"/api/rooms/{room['id']}/products", anchor, item
    )
    assert status == 201, product
    terms = {
        "product_id": product["id"], "price_cents": 2500, "quantity": quantity,
        "per_user_limit": 1, "duration_s": 600, "reservation_ttl_s": reservation_ttl_s,
    }  # fmt: skip
    status, sale = await api(http, node, "POST", f"/api/rooms/{room['id']}/sales", anchor, terms)
    assert status == 201, sale
    return str(room["id"]), str(sale["id"])


async def join(
    http: aiohttp.ClientSession, node: Node, room: str, user: str | None, role: str = "viewer"
) -> ChannelClient:
    client = await ChannelClient.connect(
        http, node.url, room, token(role, user) if user else None, wire="json"
    )
    await client.wait_for("welcome", timeout_s=10)
    return client


async def buy(client: ChannelClient, sale: str, key: str) -> Frame:
    """Send a buy and return its answer: a ``buy_result``, or an ``error`` frame."""
    after = len(client.frames)
    await client.send({"type": "buy", "sale": sale, "qty": 1, "key": key})
    return await client.wait_for(
        lambda f: f.get("type") == "buy_result" or f.get("type") == "error",
        timeout_s=20,
        after=after,
    )


async def status_of(http: aiohttp.ClientSession, url: str) -> int:
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def publish(http: aiohttp.ClientSession, node: Node, room: str) -> Any:
    pc = await publisher_offer(synthetic_tracks())
    headers = {**SDP, **bearer("anchor", "alice")}
    async with http.post(f"{node.url}/whip/{room}", data=offer_of(pc), headers=headers) as reply:
        assert reply.status == 201, await reply.text()
        await accept(pc, await reply.text())
    return pc


async def play(http: aiohttp.ClientSession, node: Node, room: str, read: bool = True) -> Viewer:
    viewer = Viewer(read=read)
    offer = await viewer.offer()
    async with http.post(f"{node.url}/whep/{room}", data=offer, headers=SDP) as reply:
        assert reply.status == 201, await reply.text()
        await accept(viewer.pc, await reply.text())
    return viewer


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


# (a) The store is SIGKILLed in the middle of a sale and restarted on the same files.

STOCK = 30


async def test_drill_store_killed_mid_sale_loses_nothing_and_oversells_nothing(
    tmp_path: Path, key_prefix: str, nodes: list[Node]
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    try:
        config = write_config(
            tmp_path / "node.toml", store.url, key_prefix,
            store={"command_timeout_s": 1.0, "connect_timeout_s": 0.5, "retries": 0},
        )  # fmt: skip
        a = start_node(nodes, tmp_path / "a", config)
        b = start_node(nodes, tmp_path / "b", config)
        async with aiohttp.ClientSession() as http:
            room, sale = await sale_room(http, a, STOCK, reservation_ttl_s=600)
            buyers = [await join(http, (a, b)[n % 2], room, f"buyer{n}") for n in range(50)]
            granted: set[str] = set()
            for n, buyer in enumerate(buyers[:15]):
                answer = await buy(buyer, sale, f"k{n}")
                assert answer["ok"], answer
                granted.add(answer["order"])

            assert store.pid is not None
            os.kill(store.pid, signal.SIGKILL)

            async def not_ready() -> bool:
                return {await status_of(http, f"{n.url}/readyz") for n in (a, b)} == {503}

            await eventually(not_ready, "/readyz to answer 503 on both nodes")
            for n, buyer in enumerate(buyers[15:25], start=15):
                answer = await buy(buyer, sale, f"k{n}")
                assert answer == {
                    "type": "error", "code": "store_unavailable",
                    "message": "The store is unavailable; try again shortly.", "key": f"k{n}",
                }  # fmt: skip
            status, body = await api(http, b, "GET", f"/api/rooms/{room}/sales/{sale}")
            assert status == 503
            assert body["error"]["code"] == "store_unavailable"

            store.stop()  # reaps the killed process; the new one starts on the same files
            store = EmbeddedValkey(tmp_path / "store")
            store.start()

            async def ready() -> bool:
                return {await status_of(http, f"{n.url}/readyz") for n in (a, b)} == {200}

            await eventually(ready, "/readyz to answer 200 on both nodes again")
            # The same connections: those who saw the error retry with the same key.
            for n, buyer in enumerate(buyers[15:], start=15):
                answer = await buy(buyer, sale, f"k{n}")
                assert answer["type"] == "buy_result", answer
                if answer["ok"]:
                    granted.add(answer["order"])
                else:
                    assert answer["reason"] in ("sold_out", "not_enough_stock"), answer
            for buyer in buyers:
                await buyer.close()

            status, state = await api(http, a, "GET", f"/api/rooms/{room}/sales/{sale}")
            assert status == 200
            assert (state["left"], state["reserved"], state["sold"]) == (0, STOCK, 0)
            assert len(granted) == STOCK

        client = store_client.connect(store.url, 2.0, 5.0, 0)
        try:
            entries = decode_entries(await client.xrange(Keys(key_prefix).outbox(room)))
        finally:
            await client.aclose()
        created = [json.loads(f["data"])["id"] for _, f in entries if f["type"] == "order.created"]
        assert sorted(created) == sorted(granted)
    finally:
        store.stop()


# (b) A node is SIGKILLed: its viewers, reservations and live room are taken care of.


async def test_drill_node_killed_its_viewers_vanish_its_reservations_return_its_room_moves(
    tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str, nodes: list[Node]
) -> None:
    config = write_config(
        tmp_path / "node.toml", valkey.url, key_prefix,
        channel={"presence_ttl_s": 1.0, "viewers_interval_s": 0.2},
        commerce={"sweep_interval_s": 0.2, "stock_interval_s": 0.1},
        media={"live_heartbeat_s": 0.5},
    )  # fmt: skip
    a = start_node(nodes, tmp_path / "a", config)
    b = start_node(nodes, tmp_path / "b", config)
    async with aiohttp.ClientSession() as http:
        room, sale = await sale_room(http, a, quantity=5, reservation_ttl_s=3)
        publisher = await publish(http, a, room)
        watcher = await join(http, b, room, "watcher")
        on_a = [await join(http, a, room, f"viewer{n}") for n in range(3)]
        pulled = await play(http, b, room)
        await pulled.wait_frames("video", 5, timeout_s=20)
        await watcher.wait_for(lambda f: f == {"type": "viewers", "count": 4}, timeout_s=10)
        for n, buyer in enumerate(on_a):
            answer = await buy(buyer, sale, f"k{n}")
            assert answer["ok"], answer
        status, state = await api(http, b, "GET", f"/api/rooms/{room}/sales/{sale}")
        assert (state["left"], state["reserved"]) == (2, 3)
        seen = len(watcher.frames)

        a.process.kill()
        a.process.wait(10)

        # B's sweep learns from the registry that A is gone: the room goes offline, B stops
        # pulling it (its WHEP viewer is closed), A's viewers drop out of the count.
        await watcher.wait_for("offline", timeout_s=15, after=seen)

        async def pulled_closed() -> bool:
            return pulled.pc.connectionState == "closed"

        await eventually(pulled_closed, "B's WHEP viewer of the dead origin to be closed")
        await watcher.wait_for(lambda f: f == {"type": "viewers", "count": 1}, timeout_s=15)

        async def stock_back() -> bool:
            state = (await api(http, b, "GET", f"/api/rooms/{room}/sales/{sale}"))[1]
            return (state["left"], state["reserved"]) == (5, 0)

        await eventually(stock_back, "A's unpaid reservations to expire back to stock")

        # The anchor goes live again on B at once, and B's viewers watch it there.
        await publisher.close()
        seen = len(watcher.frames)
        publisher = await publish(http, b, room)
        await watcher.wait_for("live", timeout_s=10, after=seen)
        again = await play(http, b, room)
        await again.wait_frames("video", 5, timeout_s=20)
        status, nodes_now = await api(http, b, "GET", "/api/nodes", token("admin", "root"))
        assert status == 200
        assert [node["url"] for node in nodes_now["nodes"]] == [b.url]
        for closing in (again, pulled):
            await closing.close()
        await publisher.close()
        await watcher.close()
        for client in on_a:
            await client.close()


# (c) Slow clients on a busy room: a viewer that stops reading media, a chat client that
# stops reading its socket. Everyone else keeps up; the node's memory stays bounded.

LINES = 100
MAX_LINES = 3000
POSTERS = 4


class RawChannel:
    """A channel client on a bare socket with a tiny receive buffer that reads only when told."""

    def __init__(self, node: Node, room: str) -> None:
        host, port = node.url.removeprefix("http://").split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        self.sock.sendall(
            f"GET /ws/rooms/{room}?format=json HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def read_to_end(self) -> bytes:
        """Everything until the server closes or drops the connection."""
        self.sock.settimeout(10)
        data = b""
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        return data

    def close(self) -> None:
        self.sock.close()


def close_code(stream: bytes) -> int | None:
    """The code of the WebSocket close frame in a server's byte stream, if it got there."""
    _, _, frames = stream.partition(b"\r\n\r\n")
    while len(frames) >= 2:
        opcode, length, at = frames[0] & 0x0F, frames[1] & 0x7F, 2
        if length == 126:
            length, at = int.from_bytes(frames[2:4]), 4
        elif length == 127:
            length, at = int.from_bytes(frames[2:10]), 10
        payload = frames[at : at + length]
        if opcode == 0x8:
            return int.from_bytes(payload[:2])
        frames = frames[at + length :]
    return None


async def test_drill_slow_clients_on_a_busy_room_hurt_nobody_and_are_bounded(
    tmp_path: Path,
    valkey: EmbeddedValkey,
    key_prefix: str,
    nodes: list[Node],
    request: pytest.FixtureRequest,
) -> None:
    config = write_config(
        tmp_path / "node.toml", valkey.url, key_prefix,
        channel={
            "send_buffer_bytes": 65536, "max_chat_chars": 7500, "max_frame_bytes": 8192,
            "frames_burst": 400, "frames_per_s": 400.0, "viewers_interval_s": 0.2,
        },
    )  # fmt: skip
    a = start_node(nodes, tmp_path / "a", config)
    async with aiohttp.ClientSession() as http:
        _, created = await api(
            http, a, "POST", "/api/rooms", token("anchor", "alice"), {"title": "t"}
        )
        room = created["id"]
        publisher = await publish(http, a, room)
        fast_viewer = await play(http, a, room)
        slow_viewer = await play(http, a, room, read=False)
        await fast_viewer.wait_frames("video", 10, timeout_s=20)
        readers = [await join(http, a, room, f"reader{n}") for n in range(2)]
        posters = [await join(http, a, room, f"mod{n}", role="moderator") for n in range(POSTERS)]
        slow = RawChannel(a, room)
        request.addfinalizer(slow.close)  # also when an assertion fails

        async def counted(n: int) -> bool:
            return bool((await api(http, a, "GET", f"/api/rooms/{room}"))[1]["viewers"] == n)

        # The readers and the slow client; moderators watching are not audience.
        await eventually(lambda: counted(2 + 1), "every client to be counted")
        rss_before = rss_kib(a.process.pid)
        frames_before = fast_viewer.frames["video"]

        # Post until the slow chat client has been dropped (kernel buffers on loopback
        # hold a few MB before the node's own bounded buffer fills), then some more.
        padding = "x" * 7000
        lines, dropped_at = 0, None
        while dropped_at is None or lines < dropped_at + LINES:
            for _ in range(LINES):
                await posters[lines % POSTERS].send(
                    {"type": "chat", "text": f"line-{lines} {padding}"}
                )
                lines += 1
            await asyncio.sleep(0.3)  # a viewer count report
            if dropped_at is None and await counted(2):
                # Dropped: reading now, it finds the 4408 close frame behind its backlog.
                dropped_at = lines
                slow_read = asyncio.ensure_future(asyncio.to_thread(slow.read_to_end))
            assert lines < MAX_LINES, "the slow chat client was never dropped"
        wanted = {f"line-{n}" for n in range(lines)}
        for reader in readers:
            for _ in range(lines * 2):
                got = {f["text"].split()[0] for f in reader.of_type("chat")}
                if got >= wanted:
                    break
                await reader.wait_for(
                    lambda f: f.get("type") == "chat", timeout_s=20, after=len(reader.frames)
                )
            assert {f["text"].split()[0] for f in reader.of_type("chat")} >= wanted
        # Video kept flowing to the viewer that reads, next to the one that does not.
        await fast_viewer.wait_frames("video", frames_before + 30, timeout_s=20)

        stream = await slow_read
        slow.close()
        assert close_code(stream) == 4408
        rss_after = rss_kib(a.process.pid)
        assert rss_after - rss_before < 150 * 1024, (rss_before, rss_after)

        for client in (*readers, *posters):
            await client.close()
        for viewer in (fast_viewer, slow_viewer):
            await viewer.close()
        await publisher.close()


# (d) SIGTERM drains a node while clients are connected; they move to the other node.


async def test_drill_sigterm_drains_a_node_while_its_clients_move_to_another(
    tmp_path: Path, key_prefix: str, nodes: list[Node]
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    assert store.pid is not None
    try:
        config = write_config(
            tmp_path / "node.toml", store.url, key_prefix, server={"shutdown_timeout_s": 5.0}
        )
        a = start_node(nodes, tmp_path / "a", config)
        b = start_node(nodes, tmp_path / "b", config)
        async with aiohttp.ClientSession() as http:
            anchor = token("anchor", "alice")
            room = (await api(http, a, "POST", "/api/rooms", anchor, {"title": "t"}))[1]["id"]
            clients = [await join(http, a, room, f"viewer{n}") for n in range(5)]

            # A request in flight when the signal comes: it waits for a store that is
            # paused (SIGSTOP) for a moment, well within the store command timeout.
            os.kill(store.pid, signal.SIGSTOP)
            try:
                in_flight = asyncio.ensure_future(api(http, a, "GET", f"/api/rooms/{room}"))
                await asyncio.sleep(0.5)
                assert not in_flight.done()
                began = time.monotonic()
                a.signal(signal.SIGTERM)
                for client in clients:
                    assert await client.wait_closed(timeout_s=5) == 4503
            finally:
                os.kill(store.pid, signal.SIGCONT)
            status, body = await asyncio.wait_for(in_flight, 10)
            assert status == 200, body
            assert body["id"] == room

            moved = [await join(http, b, room, client_user(client)) for client in clients]
            exit_code = await asyncio.to_thread(a.process.wait, 15)
            assert exit_code == 0
            assert time.monotonic() - began < 5.0 + 5.0  # the drain timeout, plus slack
            assert not [line for line in a.stderr_lines if "Traceback" in line], a.stderr_lines

            # The clients that moved are served by B: a chat line reaches every one.
            await moved[0].send({"type": "chat", "text": "still here"})
            for client in moved:
                await client.wait_for(lambda f: f.get("text") == "still here", timeout_s=10)
            for client in moved:
                await client.close()
    finally:
        store.stop()


def client_user(client: ChannelClient) -> str:
    welcome = client.of_type("welcome")[0]
    return str(welcome["you"]["user"])
