"""``livecommerce-anchor``'s live console as a real process: its stdin and stdout against a node."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from clients.anchor.channel import NotConnectedError, RoomChannel
from livecommerce.web.state import HUB
from tests.integration.cluster import Cluster

pytestmark = pytest.mark.timeout(120)
WAIT_S = 20.0
StartAnchor = Callable[..., Awaitable["AnchorProcess"]]


class AnchorProcess:
    """``python -m clients.anchor`` with piped stdin/stdout; stdout lines read in the background."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, cluster: Cluster, room: str, *extra: str) -> AnchorProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clients.anchor",
            "--server", cluster.urls[0],
            "--token", cluster.token("anchor", "alice"),
            "--room", room,
            "--source", "testsrc", "--size", "160x120",
            "--status-every", "0", "--stats-every", "0.3",
            *extra,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            self.lines.append(raw.decode().rstrip("\n"))
            self._changed.set()
        self._changed.set()

    async def type(self, line: str) -> int:
        """Send one command line; the index of the next output line (for ``after``)."""
        assert self.process.stdin is not None
        mark = len(self.lines)
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()
        return mark

    async def wait_line(self, match: str | Callable[[str], bool], after: int = 0) -> str:
        """The first stdout line from ``after`` on that starts with / satisfies ``match``."""
        test = (lambda line: line.startswith(match)) if isinstance(match, str) else match
        async with asyncio.timeout(WAIT_S):
            while True:
                for line in self.lines[after:]:
                    if test(line):
                        return line
                if self._reader.done():
                    raise AssertionError(f"the console ended without {match!r}:\n{self.output}")
                self._changed.clear()
                await self._changed.wait()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def quit(self) -> int:
        await self.type("quit")
        async with asyncio.timeout(WAIT_S):
            return await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@pytest.fixture
async def anchor_console(cluster: Cluster) -> AsyncIterator[StartAnchor]:
    started: list[AnchorProcess] = []

    async def start(room: str, *extra: str) -> AnchorProcess:
        anchor = await AnchorProcess.start(cluster, room, *extra)
        started.append(anchor)
        await anchor.wait_line("[room] joined the channel")
        return anchor

    yield start
    for anchor in started:
        await anchor.stop()


def status_has(text: str) -> Callable[[str], bool]:
    return lambda line: line.startswith("[status]") and text in line


async def room_status(cluster: Cluster, room: str) -> str:
    status, body = await cluster.api("GET", f"/api/rooms/{room}")
    assert status == 200
    return str(body["status"])


async def wait_live(cluster: Cluster, room: str) -> None:
    for _ in range(int(WAIT_S * 10)):
        if await room_status(cluster, room) == "live":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"room {room} did not go live")


async def test_chat_goes_both_ways_and_viewers_are_counted(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    anchor = await anchor_console(room)
    await anchor.wait_line(status_has("viewers 0 |"))

    viewer = await cluster.join(room, "bob", node=1)
    await anchor.wait_line(status_has("viewers 1 |"))
    await viewer.send({"type": "chat", "text": "is the tea organic?"})
    await anchor.wait_line("[chat] bob: is the tea organic?")

    await anchor.type("say yes, first flush")
    frame = await viewer.wait_for(lambda f: f.get("type") == "chat" and f["user"] == "alice")
    assert (frame["text"], frame["role"]) == ("yes, first flush", "anchor")
    await anchor.wait_line("[chat] alice (anchor): yes, first flush")

    await wait_live(cluster, room)  # the same process publishes meanwhile
    assert "\033[" not in anchor.output  # a pipe gets plain text
    assert await anchor.quit() == 0
    assert await room_status(cluster, room) == "scheduled"  # quitting ended the stream
    await viewer.close()


async def test_products_pins_and_a_flash_sale_from_the_console(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    anchor = await anchor_console(room)
    viewer = await cluster.join(room, "bob", node=1)

    added = await anchor.wait_line(
        "[ok] added", await anchor.type("product add TEA-1 1800 Oolong 100 g")
    )
    product_id = added.split()[2]
    assert added.endswith("TEA-1 'Oolong 100 g' EUR 18.00")
    mark = await anchor.type(f"pin {product_id}")
    pinned = await viewer.wait_for("product_pinned")
    assert pinned["product"]["id"] == product_id
    await anchor.wait_line(f"[pin] pinned Oolong 100 g ({product_id}) at EUR 18.00", mark)
    await anchor.wait_line(status_has("pinned Oolong 100 g"))

    mark = await anchor.type(f"sale start {product_id} 990 5 --limit 2 --for 10m --ttl 5m")
    started = await anchor.wait_line("[ok] sale ", mark)
    sale_id = started.split()[2]
    frame = await viewer.wait_for("sale_started")
    assert frame["sale"]["id"] == sale_id
    assert (frame["sale"]["quantity"], frame["sale"]["per_user_limit"]) == (5, 2)
    assert frame["sale"]["ends_at"] - frame["sale"]["starts_at"] == 600_000
    await anchor.wait_line(f"[sale] started {sale_id}: Oolong 100 g at EUR 9.90, 5 in stock")
    await anchor.wait_line(status_has(f"sale {sale_id} Oolong 100 g: 5/5 left"))

    await viewer.send({"type": "buy", "sale": sale_id, "qty": 2, "key": "k1"})
    bought = await viewer.wait_for("buy_result")
    assert bought["ok"], bought
    await anchor.wait_line(status_has(f"sale {sale_id} Oolong 100 g: 3/5 left"))
    await anchor.wait_line("[order] 1 new order: orders 1 (0 paid) | GMV 0")

    status, _ = await cluster.api(
        "POST", f"/api/orders/{bought['order']}/paid", cluster.token("backend", "shop")
    )
    assert status == 200
    await anchor.wait_line("[order] 1 paid: orders 1 (1 paid) | GMV EUR 19.80")
    mark = await anchor.type("sales")
    await anchor.wait_line(
        f"[sale] {sale_id} Oolong 100 g EUR 9.90: open, 3 of 5 left, 0 awaiting payment, 2 paid",
        mark,
    )

    mark = await anchor.type(f"sale stop {sale_id}")
    await anchor.wait_line(f"[ok] sale {sale_id} stopped", mark)
    ended = await viewer.wait_for("sale_ended")
    assert ended["sale"]["id"] == sale_id
    await anchor.wait_line(f"[sale] ended {sale_id} Oolong 100 g: 2 of 5 taken (2 paid", mark)
    await anchor.wait_line(lambda line: line.startswith("[status]") and "sale " not in line, mark)
    assert await anchor.quit() == 0
    await viewer.close()


async def test_bad_commands_get_one_line_errors_and_the_console_keeps_going(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    anchor = await anchor_console(room)
    viewer = await cluster.join(room, "bob")
    expected = {
        "explode now": "[error] unknown command 'explode'; type help for the list",
        "pin": "[error] usage: pin PRODUCT_ID",
        "sale start p1 990": "[error] usage: sale start PRODUCT_ID PRICE_CENTS QTY"
        " [--limit N] [--for 10m] [--ttl 5m]",
        "sale start p1 cheap 3": "[error] PRICE_CENTS must be a whole number, not 'cheap'",
        "sale start p1 990 3 --for soon": "[error] --for: 'soon' is not a duration like 90,"
        " 30s, 10m, 2h or 1d",
        "say": "[error] say needs the text to send: say TEXT",
        "pin nosuchproduct": "[error] product_not_found: No product 'nosuchproduct' in this room.",
        "sale stop nosuchsale": "[error] sale_not_found: No sale 'nosuchsale' in this room.",
        "sale start nosuchproduct 990 3": "[error] product_not_found:",
        'product add "TEA 1800 Oolong': "[error] cannot read the arguments: No closing quotation",
        "product add TEA-1 18.00 Oolong": "[error] PRICE_CENTS must be a whole number, not '18.00'",
    }
    for line, error in expected.items():
        mark = await anchor.type(line)
        got = await anchor.wait_line("[error]", mark)
        assert got.startswith(error), (line, got)

    mark = await anchor.type("help")
    await anchor.wait_line("  sale stop SALE_ID", mark)
    await anchor.type("say still here")
    frame = await viewer.wait_for(lambda f: f.get("type") == "chat" and f["user"] == "alice")
    assert frame["text"] == "still here"
    assert anchor.process.returncode is None
    assert await anchor.quit() == 0
    await viewer.close()


async def test_end_of_input_keeps_publishing_and_no_console_only_publishes(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    anchor = await anchor_console(room)
    assert anchor.process.stdin is not None
    anchor.process.stdin.close()
    await anchor.wait_line("[console] end of input: commands are off")
    viewer = await cluster.join(room, "bob")
    await viewer.send({"type": "chat", "text": "still there?"})
    await anchor.wait_line("[chat] bob: still there?")
    anchor.process.send_signal(signal.SIGTERM)
    assert await anchor.process.wait() == 0

    quiet = await AnchorProcess.start(cluster, room, "--no-console")
    try:
        await wait_live(cluster, room)
        quiet.process.send_signal(signal.SIGTERM)
        assert await quiet.process.wait() == 0
        await quiet._reader
        assert quiet.lines == []  # publish only: nothing on stdout
    finally:
        await quiet.stop()
    await viewer.close()


async def test_after_a_resync_the_console_resumes_and_shows_each_message_once(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    anchor = await anchor_console(room)
    viewer = await cluster.join(room, "bob")
    await viewer.send({"type": "chat", "text": "before"})
    await anchor.wait_line("[chat] bob: before")

    mark = len(anchor.lines)
    cluster.apps[0][HUB].broadcast_local(room, {"type": "resync"})
    await viewer.send({"type": "chat", "text": "during"})
    await anchor.wait_line("[channel] the server may have missed events; resuming", mark)
    await anchor.wait_line("[room] joined the channel", mark)
    await anchor.type("say after")
    await anchor.wait_line("[chat] alice (anchor): after", mark)
    chat = [line for line in anchor.lines if line.startswith("[chat]")]
    assert chat == ["[chat] bob: before", "[chat] bob: during", "[chat] alice (anchor): after"]
    assert await anchor.quit() == 0
    await viewer.close()


async def test_ending_the_room_stops_the_console_with_a_clear_message(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    anchor = await anchor_console(room)
    await wait_live(cluster, room)

    status, _ = await cluster.api("POST", f"/api/rooms/{room}/end", cluster.token("admin", "root"))
    assert status == 200
    await anchor.wait_line("[room] the room has ended")
    async with asyncio.timeout(WAIT_S):
        assert await anchor.process.wait() == 2  # publishing cannot go on either
    assert anchor.process.stderr is not None
    assert "has ended" in (await anchor.process.stderr.read()).decode()


async def test_the_channel_gives_up_only_when_reconnecting_cannot_help(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    status, _ = await cluster.api("POST", f"/api/rooms/{room}/end", cluster.token("admin", "root"))
    assert status == 200
    notices: list[str] = []
    channel = RoomChannel(
        cluster.http, cluster.urls[0], room, cluster.token("anchor", "alice"), print, notices.append
    )
    async with asyncio.timeout(WAIT_S):
        await channel.run()  # returns instead of retrying
    assert notices == ["left the room channel: the room has ended (close 4410)"]
    with pytest.raises(NotConnectedError, match="not connected to the room channel"):
        await channel.send({"type": "chat", "text": "hello?"})

    notices.clear()
    bad = RoomChannel(cluster.http, cluster.urls[0], room, "not-a-token", print, notices.append)
    async with asyncio.timeout(WAIT_S):
        await bad.run()
    assert notices == [
        "left the room channel: the server refused the token"
        " (not valid, or expired: get a fresh one) (close 4401)"
    ]
