"""A big room's window is written a slice of sessions per loop tick, each session still in
bus order, so one pass over every socket never holds the loop in one piece."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.presence import Presence
from livecommerce.channel.window import MAX_PASSES_BEHIND
from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.test_hub_batching import LocalBus, chat, frames_of, join
from tests.store_context import store_context


async def test_a_window_is_written_a_slice_per_tick_and_windows_stay_in_order(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    client = aioredis.from_url(valkey.url)
    bus = LocalBus()
    presence = Presence(store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0)
    channel = ChannelHub(bus, presence, 60.0, writes_per_slice=3)
    connections = [await join(channel, f"u{n}") for n in range(7)]
    ran_between: list[int] = []

    bus.emit("r1", chat(1))
    await asyncio.sleep(0)  # the tick ends: the window's first slice is written
    written = [bool(c.writes) for c in connections]
    assert written.count(True) == 3
    asyncio.get_running_loop().call_soon(
        lambda: ran_between.append(sum(1 for c in connections if c.writes))
    )
    bus.emit("r1", chat(2))  # a second window while the first is still being written
    for _ in range(10):
        await asyncio.sleep(0)

    assert ran_between
    assert ran_between[0] < 7
    for connection in connections:
        seen = [f["text"] for write in connection.writes for f in frames_of(write)]
        assert seen == ["line 1", "line 2"]
    await client.aclose()


async def test_windows_behind_their_slices_are_bounded_and_still_reach_everyone_in_order(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    """Windows that come faster than their slices are written do not pile up: past
    ``MAX_PASSES_BEHIND`` the oldest is written at once."""
    client = aioredis.from_url(valkey.url)
    bus = LocalBus()
    presence = Presence(store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0)
    channel = ChannelHub(bus, presence, 60.0, writes_per_slice=1)
    connections = [await join(channel, f"u{n}") for n in range(5)]
    room = channel._rooms["r1"]
    most = 0
    for n in range(1, 21):
        bus.emit("r1", chat(n))  # a window per tick; its pass needs 5 ticks
        await asyncio.sleep(0)
        most = max(most, len(room.passes))
    for _ in range(200):
        await asyncio.sleep(0)

    assert most == MAX_PASSES_BEHIND
    for connection in connections:
        seen = [f["text"] for write in connection.writes for f in frames_of(write)]
        assert seen == [f"line {n}" for n in range(1, 21)]
    await client.aclose()
