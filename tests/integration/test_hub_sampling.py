"""Chat sampling in a busy room, counted frame by frame: viewers get at most their budget
of other viewers' chat, and nothing else is ever left out — every other frame type of the
event registry, anchor and staff chat, a viewer's own lines, routed frames — while a slow
client is still dropped with 4408 and its memory stays bounded."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from livecommerce.bus import Delivery
from livecommerce.channel.events import SERVER_FRAMES, Audience, Kind
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.presence import Presence
from livecommerce.channel.session import ChannelSession, SessionState
from livecommerce.channel.wire import WireFormat
from livecommerce.config import ChannelSettings
from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.test_hub_batching import WELCOME, LocalBus, RecordingConnection, frames_of
from tests.store_context import store_context

PER_S = 5
SETTINGS = ChannelSettings(write_delay_ms=10.0, sampling_chat_rate=20.0, viewer_chat_rate=PER_S)
EXAMPLE = {Kind.string: "x", Kind.integer: 1, Kind.boolean: True, Kind.map: {}, Kind.list: []}
# Every room frame but chat, as the registry lists them (frames added later are covered too).
ROOM_FRAMES = [
    {"type": spec.name, **{f.name: EXAMPLE[f.kind] for f in spec.fields if not f.optional}}
    for spec in SERVER_FRAMES
    if spec.audience is Audience.room and spec.name not in ("chat", "chat_sampling")
]


@pytest.fixture
async def busy(valkey: EmbeddedValkey, key_prefix: str) -> AsyncIterator[Any]:
    client = aioredis.from_url(valkey.url)
    bus = LocalBus()
    presence = Presence(store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0)
    yield ChannelHub(bus, presence, 60.0, settings=SETTINGS), bus
    await client.aclose()


class Growing(RecordingConnection):
    """A client that never reads: every write stays in its buffer."""

    def buffered_bytes(self) -> int:
        return sum(len(write) for write in self.writes)


async def join(
    hub: ChannelHub,
    user: str | None,
    *,
    privileged: bool = False,
    connection: RecordingConnection | None = None,
    max_buffer: int = 1 << 24,
    keep_welcome: bool = False,
) -> RecordingConnection:
    connection = connection or RecordingConnection()
    connection.session = ChannelSession(
        connection=connection,
        wire=WireFormat.msgpack,
        room_id="r1",
        user=user,
        role="moderator" if privileged else "viewer",
        privileged=privileged,
        max_buffer=max_buffer,
    )
    await hub.join(connection.session)
    connection.session.start_streaming(WELCOME, None)
    if not keep_welcome:
        connection.writes.clear()
    return connection


def received(connection: RecordingConnection) -> list[dict[str, Any]]:
    return [frame for write in connection.writes for frame in frames_of(write)]


def chat(n: int, user: str, role: str = "viewer") -> dict[str, Any]:
    return {"type": "chat", "id": f"{n}-0", "user": user, "role": role, "text": str(n), "ts": n}


async def test_a_busy_room_samples_viewer_chat_and_never_anything_else(busy: Any) -> None:
    hub, bus = busy
    viewers = {f"v{i}": await join(hub, f"v{i}") for i in range(6)}
    anonymous = await join(hub, None)
    staff = await join(hub, "mod", privileged=True)
    sent: list[dict[str, Any]] = []
    n = 0
    for burst in range(4):  # four windows, 40 viewer lines each: 160/s, far above 20/s
        for i in range(40):
            n += 1
            sent.append(chat(n, f"v{i % 3}"))  # v0..v2 chat; v3..v5 only read
        n += 1
        sent.append(chat(n, "anchor-a", "anchor"))
        n += 1
        sent.append(chat(n, "mod", "moderator"))
        # (like totals only ever grow: the hub drops a total not above the last one)
        sent.extend({**f, "total": burst + 1} if f["type"] == "likes" else f for f in ROOM_FRAMES)
        for frame in sent[-(42 + len(ROOM_FRAMES)) :]:
            bus.emit("r1", frame)
        bus.emit("r1", Delivery({"type": "order", "id": f"o{burst}", "status": "paid"}, to="v4"))
        await asyncio.sleep(SETTINGS.write_delay_ms / 1000 * 3)

    def viewer_lines(frames: list[dict[str, Any]], but: str | None = None) -> list[str]:
        return [
            f["id"]
            for f in frames
            if f["type"] == "chat" and f["role"] == "viewer" and f["user"] != but
        ]

    everything_else = Counter({f["type"]: 4 for f in ROOM_FRAMES})
    staff_lines = [f["id"] for f in sent if f["type"] == "chat" and f["role"] != "viewer"]
    all_viewer_lines = viewer_lines(sent)
    for name, connection in [*viewers.items(), ("anonymous", anonymous)]:
        frames = received(connection)
        # Every frame that is not viewer chat arrived, each exactly as often as sent.
        others = Counter(f["type"] for f in frames if f["type"] not in ("chat", "order"))
        assert others - Counter(chat_sampling=1) == everything_else, name
        assert [f["type"] for f in frames].count("chat_sampling") == 1, name
        assert [f["id"] for f in frames if f.get("role") in ("anchor", "moderator")] == (
            staff_lines
        )
        # Their own lines, all of them; of the others' lines, at most PER_S in the second.
        got = viewer_lines(frames)
        assert got == [i for i in all_viewer_lines if i in set(got)], "out of bus order"
        own = [f["id"] for f in frames if f["type"] == "chat" and f["user"] == name]
        assert own == [f["id"] for f in sent if f["type"] == "chat" and f["user"] == name]
        assert len(viewer_lines(frames, but=name)) <= PER_S, name
    assert [f["id"] for f in received(viewers["v4"]) if f["type"] == "order"] == [
        "o0",
        "o1",
        "o2",
        "o3",
    ]
    # The anchor's and staff sockets see everything, and are not told of sampling.
    staff_frames = received(staff)
    assert viewer_lines(staff_frames) == all_viewer_lines
    assert "chat_sampling" not in [f["type"] for f in staff_frames]
    # One write per window per socket (the chat_sampling notice once more).
    assert len(viewers["v5"].writes) == 4 + 1


async def test_a_viewer_joining_while_sampling_is_told_after_the_welcome(busy: Any) -> None:
    hub, bus = busy
    await join(hub, "a")
    for n in range(60):
        bus.emit("r1", chat(n, "a"))
    await asyncio.sleep(0.05)
    late = await join(hub, "late", keep_welcome=True)
    late_welcomed = received(late)
    assert [f["type"] for f in late_welcomed] == ["welcome", "chat_sampling"]
    assert late_welcomed[1] == {"type": "chat_sampling", "on": True, "per_s": PER_S}


async def test_sampling_ends_when_the_room_calms_down(busy: Any) -> None:
    hub, bus = busy
    reader = await join(hub, "reader")
    for n in range(60):
        bus.emit("r1", chat(n, "a"))
    await asyncio.sleep(0.05)
    assert hub.sampling("r1")
    await asyncio.sleep(1.1)  # the rate is counted over one second
    bus.emit("r1", chat(100, "a"))
    await asyncio.sleep(0.05)
    assert not hub.sampling("r1")
    frames = received(reader)
    notices = [f["on"] for f in frames if f["type"] == "chat_sampling"]
    assert notices == [True, False]
    assert (frames[-1]["type"], frames[-1]["id"]) == ("chat", "100-0")


async def test_a_slow_client_is_dropped_with_4408_and_its_buffer_stays_bounded(
    busy: Any,
) -> None:
    hub, bus = busy
    healthy = await join(hub, "ok")
    slow = await join(hub, "slow", connection=Growing(), max_buffer=20_000)
    big = "y" * 1000
    for window in range(100):
        for i in range(10):  # never sampled: staff chat and stock updates
            bus.emit("r1", {**chat(window * 10 + i, "mod", "moderator"), "text": big})
            bus.emit("r1", {"type": "sale_stock", "sale": "s", "left": window * 10 + i})
        await asyncio.sleep(0.012)
    await asyncio.sleep(0.05)
    assert slow.session.state is SessionState.closing
    assert slow.session.close_code == 4408
    one_window = 10 * (1100 + 40)
    assert sum(len(w) for w in slow.writes) <= 20_000 + one_window
    frames = received(healthy)
    assert sum(f["type"] == "sale_stock" for f in frames) == 1000
    assert sum(f["type"] == "chat" for f in frames) == 1000


async def test_a_room_gone_quiet_ends_sampling_at_the_next_viewer_count(busy: Any) -> None:
    hub, bus = busy
    reader = await join(hub, "reader")
    for n in range(60):
        bus.emit("r1", chat(n, "a"))
    await asyncio.sleep(0.05)
    assert hub.sampling("r1")
    await asyncio.sleep(1.1)
    await hub.report_viewers()  # no chat since: the viewer-count loop notices
    await asyncio.sleep(0.05)
    assert not hub.sampling("r1")
    assert [f["on"] for f in received(reader) if f["type"] == "chat_sampling"] == [True, False]


async def test_a_window_sampled_away_is_written_only_to_those_it_still_reaches(
    busy: Any,
) -> None:
    hub, bus = busy
    quiet = await join(hub, "quiet")
    staff = await join(hub, "mod", privileged=True)
    author = await join(hub, "a")
    for n in range(200):  # far over the budget: sampling starts within this window
        bus.emit("r1", chat(n, "a"))
    await asyncio.sleep(0.05)
    assert hub.sampling("r1")
    quiet.writes.clear()
    staff.writes.clear()
    author.writes.clear()
    # Well within the second whose budget is spent: these lines reach no plain viewer.
    for window in range(10):
        bus.emit("r1", chat(1000 + window, "a"))
        bus.emit("r1", Delivery({"type": "order", "id": f"o{window}", "status": "paid"}, to="mod"))
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.02)
    assert quiet.writes == []
    assert len(staff.writes) == 10  # once per window, though privileged and named
    assert [f["type"] for f in received(staff)] == ["chat", "order"] * 10
    assert [f["id"] for f in received(author)] == [f"{1000 + w}-0" for w in range(10)]
