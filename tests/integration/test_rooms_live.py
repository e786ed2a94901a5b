"""A room's live state in the store: go live, heartbeat, offline, and dead origins expire."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from livecommerce.bus import Listener, StoreRoomBus
from livecommerce.channel.events import check_delivery
from livecommerce.errors import ApiError
from livecommerce.rooms.models import RoomStatus
from livecommerce.rooms.service import RoomService
from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.test_bus import Inbox, open_bus
from tests.store_context import store_context


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
async def live_rooms(
    valkey: EmbeddedValkey, key_prefix: str
) -> AsyncIterator[tuple[RoomService, StoreRoomBus, Clock]]:
    bus, client = await open_bus(valkey.url, key_prefix, check_delivery)
    clock = Clock()
    yield RoomService(store=store_context(client, key_prefix, bus=bus), clock_ms=clock), bus, clock
    await bus.stop()
    await client.aclose()


async def test_live_then_offline_is_written_then_published(
    live_rooms: tuple[RoomService, StoreRoomBus, Clock],
) -> None:
    rooms, bus, _ = live_rooms
    room = await rooms.create("alice", "Tea")
    inbox = Inbox()
    await bus.listen(Listener(room.id, inbox.on_event))

    live = await rooms.go_live(room.id, "s1", "http://node-a:8080", ttl_ms=15_000)
    assert live.status is RoomStatus.live
    assert live.origin == "http://node-a:8080"
    assert [r.id for r in await rooms.live(10)] == [room.id]
    assert not await rooms.go_offline(room.id, "someone-else")
    assert await rooms.go_offline(room.id, "s1")
    assert not await rooms.go_offline(room.id, "s1")

    events = await inbox.wait_for(2)
    assert [e["type"] for e in events] == ["live", "offline"]
    back = await rooms.get(room.id)
    assert back.status is RoomStatus.scheduled
    assert back.origin is None
    assert await rooms.live(10) == []


async def test_an_ended_room_cannot_go_live(
    live_rooms: tuple[RoomService, StoreRoomBus, Clock],
) -> None:
    rooms, _, _ = live_rooms
    room = await rooms.create("alice", "Tea")
    await rooms.end(room.id)

    with pytest.raises(ApiError) as error:
        await rooms.go_live(room.id, "s1", "http://a", ttl_ms=1000)
    assert error.value.code.name == "room_ended"
    with pytest.raises(ApiError):
        await rooms.go_live("missing", "s1", "http://a", ttl_ms=1000)


async def test_a_room_whose_origin_stops_its_heartbeat_goes_offline(
    live_rooms: tuple[RoomService, StoreRoomBus, Clock],
) -> None:
    rooms, bus, clock = live_rooms
    room = await rooms.create("alice", "Tea")
    inbox = Inbox()
    await bus.listen(Listener(room.id, inbox.on_event))
    await rooms.go_live(room.id, "s1", "http://node-a:8080", ttl_ms=15_000)

    clock.now += 10_000
    assert await rooms.heartbeat(room.id, "s1", ttl_ms=15_000)  # vouches until +25 s
    assert not await rooms.heartbeat(room.id, "other", ttl_ms=15_000)
    clock.now += 14_000
    assert await rooms.expire_stale_live() == ()  # still vouched for
    clock.now += 2_000
    assert await rooms.expire_stale_live() == (room.id,)
    assert await rooms.expire_stale_live() == ()

    assert (await rooms.get(room.id)).status is RoomStatus.scheduled
    assert [e["type"] for e in await inbox.wait_for(2)] == ["live", "offline"]
    assert not await rooms.heartbeat(room.id, "s1", ttl_ms=15_000)  # the origin must stop
