"""The room bus across two nodes sharing one store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.bus import Delivery, Event, EventCheck, Listener, StoreRoomBus
from livecommerce.store.client import StoreClient, connect
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys


def carry_anything(delivery: Delivery) -> None:
    """These tests are about the transport; the event registry's check has its own."""


class Inbox:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.events: list[Event] = []
        self.gaps = 0
        self.changed = asyncio.Event()

    def on_event(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.events.append(delivery.event)
        self.changed.set()

    def on_gap(self) -> None:
        self.gaps += 1
        self.changed.set()

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[Event]:
        async with asyncio.timeout(timeout_s):
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.events


async def open_bus(
    url: str, key_prefix: str, check: EventCheck = carry_anything
) -> tuple[StoreRoomBus, StoreClient]:
    client = connect(url, connect_timeout_s=1, command_timeout_s=2, retries=1)
    bus = StoreRoomBus(client, Keys(key_prefix), check=check)
    await bus.start()
    return bus, client


@pytest.fixture
async def two_nodes(
    valkey: EmbeddedValkey, key_prefix: str
) -> AsyncIterator[tuple[StoreRoomBus, StoreRoomBus]]:
    first, first_client = await open_bus(valkey.url, key_prefix)
    second, second_client = await open_bus(valkey.url, key_prefix)
    yield first, second
    for bus, client in ((first, first_client), (second, second_client)):
        await bus.stop()
        await client.aclose()


async def test_an_event_published_on_one_node_reaches_listeners_on_both(
    two_nodes: tuple[StoreRoomBus, StoreRoomBus],
) -> None:
    first, second = two_nodes
    here, there = Inbox(), Inbox()
    await first.listen(Listener("room1", here.on_event))
    await second.listen(Listener("room1", there.on_event))
    await first.publish("room1", {"type": "chat", "text": "hello", "n": 1})
    assert await there.wait_for(1) == [{"type": "chat", "text": "hello", "n": 1}]
    assert await here.wait_for(1) == [{"type": "chat", "text": "hello", "n": 1}]


async def test_events_keep_their_order_and_stay_in_their_room(
    two_nodes: tuple[StoreRoomBus, StoreRoomBus],
) -> None:
    first, second = two_nodes
    room_a, room_b = Inbox(), Inbox()
    await second.listen(Listener("a", room_a.on_event))
    await second.listen(Listener("b", room_b.on_event))
    for n in range(200):
        await first.publish("a" if n % 2 == 0 else "b", {"type": "tick", "n": n})
    a_events = await room_a.wait_for(100)
    b_events = await room_b.wait_for(100)
    assert [e["n"] for e in a_events] == list(range(0, 200, 2))
    assert [e["n"] for e in b_events] == list(range(1, 200, 2))


async def test_the_last_listener_leaving_ends_delivery(
    two_nodes: tuple[StoreRoomBus, StoreRoomBus],
) -> None:
    first, second = two_nodes
    one, two = Inbox(), Inbox()
    listener_one = Listener("room1", one.on_event)
    listener_two = Listener("room1", two.on_event)
    await second.listen(listener_one)
    await second.listen(listener_two)
    await second.unlisten(listener_one)
    await first.publish("room1", {"type": "x"})
    await two.wait_for(1)
    assert one.events == []
    await second.unlisten(listener_two)
    assert second.listening_rooms() == set()
    await first.publish("room1", {"type": "y"})
    late = Inbox()
    await second.listen(Listener("other", late.on_event))
    await first.publish("other", {"type": "z"})
    await late.wait_for(1)
    assert [e["type"] for e in two.events] == ["x"]


async def test_a_failing_listener_does_not_stop_the_others(
    two_nodes: tuple[StoreRoomBus, StoreRoomBus],
) -> None:
    first, second = two_nodes
    healthy = Inbox()

    def broken(delivery: Delivery) -> None:
        raise RuntimeError("listener bug")

    await second.listen(Listener("room1", broken))
    await second.listen(Listener("room1", healthy.on_event))
    await first.publish("room1", {"type": "a"})
    await first.publish("room1", {"type": "b"})
    assert [e["type"] for e in await healthy.wait_for(2)] == ["a", "b"]


async def test_garbage_on_the_channel_is_dropped(
    two_nodes: tuple[StoreRoomBus, StoreRoomBus], valkey: EmbeddedValkey, key_prefix: str
) -> None:
    _, second = two_nodes
    inbox = Inbox()
    await second.listen(Listener("room1", inbox.on_event))
    raw = connect(valkey.url, connect_timeout_s=1, command_timeout_s=2, retries=1)
    channel = Keys(key_prefix).room_events("room1")
    await raw.spublish(channel, b"\xc1not msgpack")
    await raw.spublish(channel, b"\x93\x01\x02\x03")  # a msgpack list, not a map
    await second.publish("room1", {"type": "ok"})
    await raw.aclose()
    assert await inbox.wait_for(1) == [{"type": "ok"}]


async def test_listeners_hear_of_a_gap_and_receive_again_after_the_store_restarts(
    tmp_path: Path, key_prefix: str
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    bus, client = await open_bus(store.url, key_prefix)
    try:
        inbox = Inbox()
        await bus.listen(Listener("room1", inbox.on_event, inbox.on_gap))
        await bus.publish("room1", {"type": "before"})
        await inbox.wait_for(1)
        store.stop()
        await asyncio.sleep(1.5)
        store = EmbeddedValkey(tmp_path / "store")
        store.start()
        async with asyncio.timeout(10):
            while inbox.gaps == 0:
                inbox.changed.clear()
                await inbox.changed.wait()
        delivered: list[Any] = []
        async with asyncio.timeout(10):
            while not delivered:
                await bus.publish("room1", {"type": "after"})
                await asyncio.sleep(0.2)
                delivered = [e for e in inbox.events if e["type"] == "after"]
    finally:
        await bus.stop()
        await client.aclose()
        store.stop()


async def test_ending_a_room_tells_every_node(
    two_nodes: tuple[StoreRoomBus, StoreRoomBus], key_prefix: str
) -> None:
    from livecommerce.rooms.service import RoomService
    from tests.store_context import store_context

    first, second = two_nodes
    client = first._client
    rooms = RoomService(store=store_context(client, key_prefix, bus=first))
    room = await rooms.create("alice", "Ending soon")
    inbox = Inbox()
    await second.listen(Listener(room.id, inbox.on_event))
    await rooms.end(room.id)
    await rooms.end(room.id)
    assert await inbox.wait_for(1) == [{"type": "room_ended", "room": room.id}]
    # A marker published after both ends arrives after anything they published.
    await first.publish(room.id, {"type": "marker"})
    assert await inbox.wait_for(2) == [{"type": "room_ended", "room": room.id}, {"type": "marker"}]
