"""Room broadcasts of one event-loop tick reach each session in one write, in bus order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import redis.asyncio as aioredis

from livecommerce.bus import Delivery, Event, Listener
from livecommerce.channel import passes
from livecommerce.channel.events import check_delivery
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.passes import PassState
from livecommerce.channel.presence import Presence
from livecommerce.channel.session import ChannelSession
from livecommerce.channel.wire import OutgoingFrame, WireFormat
from livecommerce.config import ChannelSettings
from livecommerce.store.embedded import EmbeddedValkey
from tests.store_context import store_context


class LocalBus:
    """Delivers published events to the listeners synchronously, like the bus reader
    handing over several events read from the store in one go."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []

    async def publish(self, room_id: str, delivery: Delivery | Event) -> None:
        self.emit(room_id, delivery)

    def emit(self, room_id: str, delivery: Delivery | Event) -> None:
        if not isinstance(delivery, Delivery):
            delivery = Delivery(delivery)
        check_delivery(delivery)
        for listener in list(self.listeners):
            if listener.room_id == room_id:
                listener.on_event(delivery)

    async def listen(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def unlisten(self, listener: Listener) -> None:
        self.listeners.remove(listener)


class RecordingConnection:
    session: ChannelSession

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def buffered_bytes(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    async def close(self, code: int, reason: str) -> None:
        return None

    def abort(self) -> None:
        return None


def frames_of(data: bytes) -> list[dict[str, Any]]:
    """Unframe server WebSocket frames (unmasked, short binary) and decode them."""
    frames, pos = [], 0
    while pos < len(data):
        length, head = data[pos + 1] & 0x7F, 2
        if length == 126:
            length, head = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
        frames.append(msgpack.unpackb(data[pos + head : pos + head + length], raw=False))
        pos += head + length
    return frames


@pytest.fixture
async def hub(valkey: EmbeddedValkey, key_prefix: str, tmp_path: Path) -> AsyncIterator[Any]:
    client = aioredis.from_url(valkey.url)
    bus = LocalBus()
    presence = Presence(store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0)
    yield ChannelHub(bus, presence, 60.0), bus
    await client.aclose()


WELCOME = OutgoingFrame({"type": "welcome"})


async def join(
    hub: ChannelHub,
    user: str,
    streaming: bool = True,
    connection: RecordingConnection | None = None,
) -> RecordingConnection:
    connection = connection or RecordingConnection()
    connection.session = ChannelSession(
        connection=connection,
        wire=WireFormat.msgpack,
        room_id="r1",
        user=user,
        role="viewer",
        privileged=False,
        max_buffer=1 << 20,
    )
    await hub.join(connection.session)
    if streaming:
        connection.session.start_streaming(WELCOME, None)
        connection.writes.clear()
    return connection


def chat(n: int) -> dict[str, Any]:
    return {
        "type": "chat",
        "id": f"{n}-0",
        "user": "u",
        "role": "viewer",
        "text": f"line {n}",
        "ts": n,
    }


async def test_events_of_one_tick_are_one_write_per_session(hub: Any) -> None:
    channel, bus = hub
    first, second = await join(channel, "a"), await join(channel, "b")
    for n in range(1, 6):
        bus.emit("r1", chat(n))
    assert first.writes == []  # nothing until the tick ends
    await asyncio.sleep(0)
    for connection in (first, second):
        assert len(connection.writes) == 1
        assert [f["text"] for f in frames_of(connection.writes[0])] == [
            f"line {n}" for n in range(1, 6)
        ]
    bus.emit("r1", chat(6))
    await asyncio.sleep(0)
    assert [frames_of(w)[0]["text"] for w in first.writes[1:]] == ["line 6"]


async def test_routed_events_keep_the_bus_order(hub: Any) -> None:
    channel, bus = hub
    ann, bob = await join(channel, "ann"), await join(channel, "bob")
    bus.emit("r1", chat(1))
    bus.emit("r1", chat(2))
    bus.emit("r1", Delivery({"type": "order", "id": "o1", "status": "paid"}, to="ann"))
    bus.emit("r1", chat(3))
    await asyncio.sleep(0)
    seen = [frame for write in ann.writes for frame in frames_of(write)]
    assert [f.get("text", f["type"]) for f in seen] == ["line 1", "line 2", "order", "line 3"]
    assert [f["text"] for w in bob.writes for f in frames_of(w)] == ["line 1", "line 2", "line 3"]


async def test_a_joining_session_gets_the_batch_after_its_welcome(hub: Any) -> None:
    channel, bus = hub
    joining = await join(channel, "late", streaming=False)
    bus.emit("r1", chat(1))
    bus.emit("r1", chat(2))
    await asyncio.sleep(0)
    assert joining.writes == []  # held until the welcome
    joining.session.start_streaming(WELCOME, "1-0")  # the welcome already held line 1
    seen = [frame for write in joining.writes for frame in frames_of(write)]
    assert [f.get("text", f["type"]) for f in seen] == ["welcome", "line 2"]


async def test_events_of_one_write_window_are_one_write_however_many_ticks(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    """With ``channel.write_delay_ms``, events spread over several ticks (routed ones
    too) still reach each session as one write, each session's in bus order."""
    client = aioredis.from_url(valkey.url)
    bus = LocalBus()
    presence = Presence(store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0)
    settings = ChannelSettings(write_delay_ms=200.0, sampling_chat_rate=0.0)
    channel = ChannelHub(bus, presence, 60.0, settings=settings)
    ann, bob = await join(channel, "ann"), await join(channel, "bob")
    for n in range(1, 4):
        bus.emit("r1", chat(n))
        await asyncio.sleep(0)
    bus.emit("r1", Delivery({"type": "order", "id": "o1", "status": "paid"}, to="ann"))
    await asyncio.sleep(0.01)
    bus.emit("r1", chat(4))
    assert ann.writes == bob.writes == []  # held for the window
    await asyncio.sleep(0.5)
    assert len(ann.writes) == len(bob.writes) == 1
    seen = [f.get("text", f["type"]) for f in frames_of(ann.writes[0])]
    assert seen == ["line 1", "line 2", "line 3", "order", "line 4"]
    assert [f["text"] for f in frames_of(bob.writes[0])] == [f"line {n}" for n in range(1, 5)]
    await client.aclose()


async def settle() -> None:
    """Let the loop run every slice, window and pass already scheduled."""
    for _ in range(20):
        await asyncio.sleep(0)


def texts(connection: RecordingConnection) -> list[list[str]]:
    """Each write's frames: a chat line's text, any other frame's type."""
    return [[f.get("text", f["type"]) for f in frames_of(w)] for w in connection.writes]


async def test_a_window_closing_during_a_pass_joins_it(
    hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass writes a slice of sessions per tick; a window that closes meanwhile goes,
    in the same write, to the sessions not reached yet, and to the others next."""
    monkeypatch.setattr(passes, "PASS_SLICE", 2)
    channel, bus = hub
    sockets = [await join(channel, f"u{i}") for i in range(6)]
    bus.emit("r1", chat(1))
    await asyncio.sleep(0)  # the window closes: the pass writes its first slice
    assert [len(s.writes) for s in sockets] == [1, 1, 0, 0, 0, 0]
    bus.emit("r1", chat(2))
    await settle()
    for early in sockets[:4]:
        assert texts(early) == [["line 1"], ["line 2"]]
    for late in sockets[4:]:
        assert texts(late) == [["line 1", "line 2"]]  # both windows, one write
    room = channel._rooms["r1"]
    assert room.passes.state is PassState.idle
    assert room.passes.pending_windows == 0


async def test_a_routed_window_during_a_pass_keeps_the_bus_order(
    hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passes, "PASS_SLICE", 2)
    channel, bus = hub
    viewers = [await join(channel, f"v{i}") for i in range(4)]
    ann = await join(channel, "ann")  # the pass reaches ann after the order's window closed
    bus.emit("r1", chat(1))
    await asyncio.sleep(0)
    bus.emit("r1", Delivery({"type": "order", "id": "o1", "status": "paid"}, to="ann"))
    await settle()
    assert texts(ann) == [["line 1", "order"]]
    assert [texts(v) for v in viewers] == [[["line 1"]]] * 4
    bus.emit("r1", Delivery({"type": "order", "id": "o2", "status": "paid"}, to="ann"))
    await asyncio.sleep(0)  # no pass under way: written to ann at once
    assert texts(ann)[1:] == [["order"]]
    assert [len(v.writes) for v in viewers] == [1, 1, 1, 1]


async def test_a_session_leaving_during_a_pass_is_skipped(
    hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passes, "PASS_SLICE", 2)
    channel, bus = hub
    sockets = [await join(channel, f"u{i}") for i in range(4)]
    bus.emit("r1", chat(1))
    await asyncio.sleep(0)
    await channel.leave(sockets[3].session)
    await settle()
    assert [len(s.writes) for s in sockets] == [1, 1, 1, 0]
    await channel.leave(sockets[0].session)
    bus.emit("r1", chat(2))
    await settle()
    assert [texts(s) for s in sockets[1:3]] == [[["line 1"], ["line 2"]]] * 2


class BrokenConnection(RecordingConnection):
    broken = False

    def write(self, data: bytes) -> None:
        if self.broken:
            raise OSError("the socket went away under us")
        super().write(data)


async def test_a_failing_socket_does_not_stop_the_pass(
    hub: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(passes, "PASS_SLICE", 2)
    channel, bus = hub
    first = await join(channel, "u0")
    broken = BrokenConnection()
    await join(channel, "broken", connection=broken)
    rest = [await join(channel, f"u{i}") for i in range(2, 5)]
    broken.broken = True
    for n in (1, 2):
        bus.emit("r1", chat(n))
        await settle()
    for socket in [first, *rest]:
        assert texts(socket) == [["line 1"], ["line 2"]]
    assert "writing to a channel session failed" in caplog.text
