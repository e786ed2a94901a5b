"""A drained node hands its rooms over: the room stays live without a stream (no
``offline`` step) until its anchor publishes again on another node, whose new session
replaces the old one in the room's state in one step; an anchor that does not come back
by the deadline takes the room offline as a dead origin would."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from livecommerce.bus import Listener, StoreRoomBus
from livecommerce.rooms.models import RoomStatus
from livecommerce.rooms.service import RoomService
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import LIVE, ROOMS
from tests.conftest import ClientFactory, TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.media_peers import wait_for
from tests.integration.test_bus import Inbox
from tests.integration.test_nodes import node
from tests.integration.test_rooms_api import create_room
from tests.integration.test_rooms_live import Clock, live_rooms  # noqa: F401 - a fixture
from tests.integration.test_whip_whep import go_live, watch


async def test_a_handed_over_room_stays_live_until_its_anchor_publishes_elsewhere(
    live_rooms: tuple[RoomService, StoreRoomBus, Clock],  # noqa: F811
) -> None:
    rooms, bus, clock = live_rooms
    room = await rooms.create("alice", "Tea")
    inbox = Inbox()
    await bus.listen(Listener(room.id, inbox.on_event))
    await rooms.go_live(room.id, "s1", "http://node-a:8080", ttl_ms=15_000)

    assert not await rooms.hand_over(room.id, "someone-else", clock.now + 10_000)
    assert await rooms.hand_over(room.id, "s1", clock.now + 10_000)
    assert not await rooms.hand_over(room.id, "s1", clock.now + 10_000)
    waiting = await rooms.get(room.id)
    assert waiting.status is RoomStatus.live
    assert (waiting.live_session, waiting.origin) == (None, None)
    # The drained node's publication ends: it is not the room's stream any more.
    assert not await rooms.go_offline(room.id, "s1")
    assert not await rooms.heartbeat(room.id, "s1", ttl_ms=15_000)
    clock.now += 9_000
    assert await rooms.expire_stale_live() == ()  # the anchor still has time

    moved = await rooms.go_live(room.id, "s2", "http://node-b:8080", ttl_ms=15_000)
    assert moved.status is RoomStatus.live
    assert (moved.live_session, moved.origin) == ("s2", "http://node-b:8080")
    assert moved.started_at == waiting.started_at  # the same broadcast, moved
    clock.now += 5_000
    assert await rooms.expire_stale_live() == ()  # vouched for by s2 now
    assert [r.id for r in await rooms.live(10)] == [room.id]
    await inbox.wait_for(2)
    await asyncio.sleep(0.2)  # an offline published by mistake would have arrived
    assert [e["type"] for e in inbox.events] == ["live", "live"]


async def test_a_handed_over_room_whose_anchor_is_late_goes_offline_at_the_deadline(
    live_rooms: tuple[RoomService, StoreRoomBus, Clock],  # noqa: F811
) -> None:
    rooms, bus, clock = live_rooms
    room = await rooms.create("alice", "Tea")
    inbox = Inbox()
    await bus.listen(Listener(room.id, inbox.on_event))
    await rooms.go_live(room.id, "s1", "http://node-a:8080", ttl_ms=15_000)
    assert await rooms.hand_over(room.id, "s1", clock.now + 10_000)

    clock.now += 10_000
    assert await rooms.expire_stale_live() == ()  # at the deadline, not yet
    clock.now += 1
    assert await rooms.expire_stale_live() == (room.id,)
    assert (await rooms.get(room.id)).status is RoomStatus.scheduled
    assert await rooms.live(10) == []
    assert [e["type"] for e in await inbox.wait_for(2)] == ["live", "offline"]


async def test_a_drained_origins_room_moves_to_another_node_without_an_offline_step(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    origin = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    other = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    room = (await create_room(origin, token))["id"]
    pc, _ = await go_live(origin, token, room)
    pulled, _ = await watch(other, room)  # the other node pulls the room from the origin
    await pulled.wait_frames("video", 3, timeout_s=15)
    async with aiohttp.ClientSession() as http:
        channel = await ChannelClient.connect(http, str(other.make_url("")).rstrip("/"), room)
        await channel.wait_for("welcome")
        seen = len(channel.frames)

        await origin.app[LIVE].hand_over()  # what SIGTERM does first
        waiting = await other.app[ROOMS].get(room)
        assert waiting.status is RoomStatus.live
        assert waiting.live_session is None
        await wait_for(lambda: pc.connectionState == "closed", 10, "the anchor to be cut off")

        # The anchor publishes again, on the other node (which may still hold its pull).
        again, location = await go_live(other, token, room)
        moved = await other.app[ROOMS].get(room)
        assert moved.live_session == location.rsplit("/", 1)[1]
        assert other.app[LIVE].hub.publications() == {room: moved.live_session}
        await channel.wait_for("live")
        viewer, _ = await watch(other, room)
        await viewer.wait_frames("video", 3, timeout_s=15)
        kinds = [f.get("type") for f in channel.frames[seen:]]
        assert "offline" not in kinds, kinds
        await channel.close()
    for peer in (pulled, viewer):
        await peer.close()
    for conn in (pc, again):
        await conn.close()
