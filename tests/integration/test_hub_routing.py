"""The hub routes each delivery as its envelope says (one user, close afterwards, set or
cancel a timer) and sends nothing the event registry does not describe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from livecommerce.bus import Delivery, Timer
from livecommerce.channel.events import EventError
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.presence import Presence
from livecommerce.channel.session import now_ms
from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.media_peers import wait_for
from tests.integration.test_hub_batching import LocalBus, RecordingConnection, frames_of, join
from tests.store_context import store_context


@pytest.fixture
async def routed(valkey: EmbeddedValkey, key_prefix: str) -> AsyncIterator[Any]:
    client = aioredis.from_url(valkey.url)
    bus = LocalBus()
    presence = Presence(store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0)
    yield ChannelHub(bus, presence, 60.0), bus
    await client.aclose()


def types(connection: RecordingConnection) -> list[str]:
    return [frame["type"] for write in connection.writes for frame in frames_of(write)]


async def test_a_users_delivery_reaches_only_that_users_sessions(routed: Any) -> None:
    hub, bus = routed
    ann, ann_phone, bob = await join(hub, "ann"), await join(hub, "ann"), await join(hub, "bob")
    await bus.publish("r1", Delivery({"type": "unbanned"}, to="ann"))
    await asyncio.sleep(0)  # the end of the write window
    assert (types(ann), types(ann_phone), types(bob)) == (["unbanned"], ["unbanned"], [])


async def test_a_close_code_closes_the_receiving_sessions_after_the_frame(routed: Any) -> None:
    hub, bus = routed
    ann, bob = await join(hub, "ann"), await join(hub, "bob")
    await bus.publish("r1", Delivery({"type": "banned"}, to="ann", close_code=4403))
    await asyncio.sleep(0)
    assert types(ann) == ["banned"]
    assert (ann.session.close_code, bob.session.close_code) == (4403, None)


async def test_a_timer_sends_its_frame_when_due_and_a_later_one_cancels_it(routed: Any) -> None:
    hub, bus = routed
    ann, bob = await join(hub, "ann"), await join(hub, "bob")
    soon = now_ms() + 50
    muted = Delivery(
        {"type": "muted", "until": soon},
        to="ann",
        timer=Timer("user-mute", soon, {"type": "unmuted"}),
    )
    await bus.publish("r1", muted)
    await bus.publish("r1", Delivery({"type": "room_muted", "until": soon}, timer=Timer("room")))
    await bus.publish(
        "r1",
        Delivery(
            {"type": "room_muted", "until": soon},
            timer=Timer("room", soon, {"type": "room_unmuted"}),
        ),
    )
    await bus.publish("r1", Delivery({"type": "room_unmuted"}, timer=Timer("room")))
    await wait_for(lambda: types(ann)[-1:] == ["unmuted"], timeout_s=5, what="the unmute")
    await bus.publish("r1", Delivery({"type": "resync"}, to=None))  # a marker after the timers
    await asyncio.sleep(0)
    assert types(ann) == ["muted", "room_muted", "room_muted", "room_unmuted", "unmuted", "resync"]
    assert types(bob) == ["room_muted", "room_muted", "room_unmuted", "resync"]


async def test_nothing_unregistered_is_sent_to_a_session(routed: Any) -> None:
    hub, _ = routed
    ann = await join(hub, "ann")
    with pytest.raises(EventError):
        hub.broadcast_local("r1", {"type": "viewer_count", "count": 1})
    with pytest.raises(EventError):
        ann.session.send({"type": "pong"})  # without its ts
    hub.broadcast_local("r1", {"type": "viewers", "count": 1})
    ann.session.send({"type": "pong", "ts": 1})  # an answer to the socket is not held
    await asyncio.sleep(0)
    assert types(ann) == ["pong", "viewers"]
