"""Rolling restarts: two real nodes behind a load balancer the test runs, each restarted
in turn (SIGTERM, then started again) during a flash sale and a live stream. Every buy
gets exactly one answer, no order is lost or doubled, chat resumes without a gap, the
anchor moves to the other node and viewers see video again."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from livecommerce.store import client as store_client
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from tests.integration.balancer import Balancer
from tests.integration.deployment import token, write_config
from tests.integration.nodes import Node, clean_env
from tests.integration.rolling import Buyer, Chatter, Listener, Reconnecting, Watcher

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# Generous: a loaded 2-core machine runs two nodes, an encoder and the clients.
PROGRESS_TIMEOUT_S = 60.0
# Each node is restarted this many times, in turn: eight handovers of the live stream.
ROUNDS = 4
# The target, for every handover: video again at the viewer within 3 s. A
# handover takes about 1 s here (the anchor back ~0.5 s after the signal, the viewer's
# next frame ~0.3 s later), so the bound leaves room for a busy machine yet fails one
# that falls back to an offline/live step with its retries and backoffs.
HANDOVER_GAP_BOUND_S = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def start(nodes: list[Node], data_dir: Path, config: Path, port: int) -> Node:
    node = Node(data_dir, "--config", str(config), "--port", str(port), env=clean_env())
    nodes.append(node)
    return node.wait_ready()


async def until(check: object, what: str, timeout_s: float = PROGRESS_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def answered(buyers: list[Buyer]) -> int:
    return sum(len(buyer.answers) for buyer in buyers)


async def test_rolling_restart_of_both_nodes_during_a_sale_and_a_live_stream(
    tmp_path: Path, key_prefix: str, nodes: list[Node]
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    anchor: subprocess.Popen[str] | None = None
    anchor_log = (tmp_path / "anchor.log").open("w")
    balancer = Balancer([])
    try:
        config = write_config(
            tmp_path / "node.toml",
            store.url,
            key_prefix,
            server={"shutdown_timeout_s": 5.0, "node_heartbeat_s": 0.5},
            media={"loopback_candidates": True, "live_heartbeat_s": 1.0},
        )
        ports = [free_port(), free_port()]
        running = [start(nodes, tmp_path / f"n{n}", config, port) for n, port in enumerate(ports)]
        balancer.upstreams = [node.url for node in running]
        await balancer.start()
        lb = balancer.url
        async with aiohttp.ClientSession() as http:
            owner = token("anchor", "alice")
            status, room = await api_lb(http, lb, "POST", "/api/rooms", owner, {"title": "Roll"})
            assert status == 201, room
            room_id = str(room["id"])
            item = {"sku": "S", "title": "Scarf", "price_cents": 5000, "currency": "EUR"}
            status, product = await api_lb(
                http, lb, "POST", f"/api/rooms/{room_id}/products", owner, item
            )
            assert status == 201, product
            terms = {
                "product_id": product["id"], "price_cents": 2500, "quantity": 5000,
                "per_user_limit": 5000, "duration_s": 900, "reservation_ttl_s": 900,
            }  # fmt: skip
            status, sale = await api_lb(
                http, lb, "POST", f"/api/rooms/{room_id}/sales", owner, terms
            )
            assert status == 201, sale

            anchor = subprocess.Popen(  # noqa: ASYNC220 - the anchor runs beside the test
                [
                    sys.executable,
                    "-m",
                    "clients.anchor",
                    "--server",
                    lb,
                    "--room",
                    room_id,
                    "--no-console",
                    "--size",
                    "160x120",
                    "--status-every",
                    "0",
                    "--stats-every",
                    "0",
                ],
                env=clean_env(LIVECOMMERCE_ANCHOR_TOKEN=owner),
                stdout=anchor_log,
                stderr=subprocess.STDOUT,
                text=True,
            )

            async def room_status() -> str:
                got = await api_lb(http, lb, "GET", f"/api/rooms/{room_id}")
                return str(got[1].get("status"))

            deadline = time.monotonic() + PROGRESS_TIMEOUT_S
            while await room_status() != "live":
                assert time.monotonic() < deadline, "the anchor never went live"
                await asyncio.sleep(0.2)

            stop, stop_reading = asyncio.Event(), asyncio.Event()
            buyers = [
                Buyer(Reconnecting(http, lb, room_id, f"buyer{n}"), str(sale["id"]))
                for n in range(4)
            ]
            chatter = Chatter(Reconnecting(http, lb, room_id, "chatty"))
            listener = Listener(Reconnecting(http, lb, room_id, "reader"))
            watcher = Watcher(http, lb, room_id, live=listener.live)
            tasks = [asyncio.ensure_future(b.run(stop)) for b in buyers]
            tasks += [asyncio.ensure_future(t.run(stop)) for t in (chatter, watcher)]
            reading = asyncio.ensure_future(listener.run(stop_reading))
            try:
                await until(lambda: len(watcher.frame_times) > 20, "video at the viewer")
                await until(lambda: answered(buyers) >= 8, "the first buys")
                restarts: list[tuple[float, float]] = []
                turns = [pair for _ in range(ROUNDS) for pair in enumerate(ports)]
                for turn, (n, port) in enumerate(turns):
                    before = (answered(buyers), len(chatter.posted))
                    began = time.monotonic()
                    running[n].signal(signal.SIGTERM)
                    code = await asyncio.to_thread(running[n].process.wait, 30)
                    assert code == 0, running[n].stderr_lines[-20:]
                    failures = [e for e in running[n].stderr_lines if "Traceback" in e]
                    assert not failures, running[n].stderr_lines
                    # In a thread: the clients of this loop (the viewer's frames) go on.
                    running[n] = await asyncio.to_thread(
                        start, nodes, tmp_path / f"n{n}-turn{turn}", config, port
                    )
                    balancer.upstreams[n] = running[n].url
                    await until(
                        lambda b=before: (
                            answered(buyers) >= b[0] + 8 and len(chatter.posted) >= b[1] + 5
                        ),
                        "buys and chat going on after the restart",
                    )
                    await until(
                        lambda t=began: len([f for f in watcher.frame_times if f > t]) > 20,
                        "video at the viewer after the restart",
                    )
                    restarts.append((began, time.monotonic()))
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), PROGRESS_TIMEOUT_S)
                # The reader is still connected: the last lines reach it too.
                with contextlib.suppress(AssertionError):
                    await until(lambda: set(chatter.posted) <= listener.texts(), "the last lines")
                stop_reading.set()
                await asyncio.wait_for(reading, PROGRESS_TIMEOUT_S)

            # Every buy has exactly one answer: a key answered twice got the same answer.
            keys = [key for buyer in buyers for key in buyer.answers]
            assert len(keys) == answered(buyers)
            oks: set[str] = set()
            for buyer in buyers:
                for key, answers in buyer.answers.items():
                    assert len({str(sorted(a.items())) for a in answers}) == 1, (key, answers)
                    assert answers[0]["ok"] is True, answers[0]
                    oks.add(str(answers[0]["order"]))
            assert len(oks) == len(keys)  # one order per key: none doubled
            retried = sum(n - 1 for buyer in buyers for n in buyer.sends.values())

            # No order lost: each is in the store, and the stock counts exactly them.
            client = store_client.connect(store.url, 2.0, 5.0, 2)
            try:
                names = Keys(key_prefix)
                for order in oks:
                    assert await client.exists(names.order(room_id, order)) == 1, order
                held = await client.hgetall(names.sale(room_id, str(sale["id"])))
                reserved = int(held[b"reserved"]) + int(held[b"sold"])
                assert reserved == len(oks)
                assert int(held[b"stock"]) == 5000 - len(oks)
            finally:
                await client.aclose()

            # Chat: every line posted reached the reader, across its reconnects.
            assert set(chatter.posted) <= listener.texts(), sorted(
                set(chatter.posted) - listener.texts()
            )
            drained = [c for c in listener.channel.closes if c == 4503]
            assert drained, listener.channel.closes
            assert all(w["resumed"] for w in listener.channel.welcomes[1:])

            # Video: the viewer saw frames again after every handover, each time within the
            # bound, and the room never went offline (the new publication replaced the old).
            gaps = [watcher.longest_gap(began, ended) for began, ended in restarts]
            under = sum(gap < 3.0 for gap in gaps)
            # Where the time goes: SIGTERM to the anchor live again (``live`` at a reader),
            # and from there to the viewer's next frame.
            for began, ended in restarts:
                live = next((t for t in listener.lives if began < t < ended), None)
                frame = watcher.first_frame_after(live) if live else None
                times = [began, *(t for t in watcher.frame_times if began < t < ended)]
                holes = [
                    (round(a - began, 2), round(b - a, 2))
                    for a, b in itertools.pairwise(times)
                    if b - a > 0.5
                ]
                leaves = [
                    (round(t - began, 2), why) for t, why in watcher.leaves if began < t < ended
                ]
                attaches = [round(t - began, 2) for t in watcher.attached_at if began < t < ended]
                print(f"  handover: anchor live again after "
                      f"{'-' if live is None else f'{live - began:.2f}'} s, video "
                      f"{'-' if frame is None or live is None else f'{frame - live:.2f}'} s "
                      f"after that; gaps (at, length) {holes}; viewer left {leaves}, "
                      f"attached {attaches}")  # fmt: skip
            print(f"rolling restart: {len(gaps)} handovers, video gaps "
                  f"{[round(g, 2) for g in gaps]} s ({under} under 3 s, longest "
                  f"{max(gaps):.2f} s), {listener.offlines} offline frames, {len(keys)} buys "
                  f"({retried} sent again), {len(chatter.posted)} chat lines, "
                  f"{watcher.attaches} WHEP attaches")  # fmt: skip
            assert len(gaps) == 2 * ROUNDS
            assert listener.offlines == 0
            assert max(gaps) < HANDOVER_GAP_BOUND_S, gaps
    finally:
        if anchor is not None:
            anchor.send_signal(signal.SIGTERM)
            try:
                anchor.wait(10)
            except subprocess.TimeoutExpired:
                anchor.kill()
                anchor.wait()
        anchor_log.close()
        await balancer.stop()
        store.stop()


async def api_lb(
    http: aiohttp.ClientSession,
    lb: str,
    method: str,
    path: str,
    who: str | None = None,
    body: object = None,
) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {who}"} if who else {}
    async with http.request(method, lb + path, json=body, headers=headers) as response:
        return response.status, await response.json()
