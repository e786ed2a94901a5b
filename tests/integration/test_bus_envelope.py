"""Deliveries cross nodes with their routing intact, in the versioned wire form; the
previous form is still read; what a node cannot route safely is dropped; and a node
refuses to publish what the event registry does not allow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import msgpack
import pytest

from livecommerce.bus import Delivery, Listener, StoreRoomBus, Timer, decode_delivery
from livecommerce.channel.events import EventError, check_delivery
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import BUS
from tests.integration.cluster import Cluster
from tests.integration.test_bus import Inbox, open_bus

MUTED = Delivery(
    {"type": "muted", "until": 1_700_000_000_000},
    to="ann",
    timer=Timer("user-mute", 1_700_000_000_000, {"type": "unmuted"}),
)


@pytest.fixture
async def checked_nodes(
    valkey: EmbeddedValkey, key_prefix: str
) -> AsyncIterator[tuple[StoreRoomBus, StoreRoomBus]]:
    first, first_client = await open_bus(valkey.url, key_prefix, check_delivery)
    second, second_client = await open_bus(valkey.url, key_prefix, check_delivery)
    yield first, second
    for bus, client in ((first, first_client), (second, second_client)):
        await bus.stop()
        await client.aclose()


async def test_routing_crosses_nodes_intact(
    checked_nodes: tuple[StoreRoomBus, StoreRoomBus],
) -> None:
    first, second = checked_nodes
    inbox = Inbox()
    await second.listen(Listener("room1", inbox.on_event))
    banned = Delivery({"type": "banned"}, to="bob", close_code=4403)
    lifted = Delivery({"type": "room_unmuted"}, timer=Timer("room-mute"))
    for delivery in (MUTED, banned, lifted):
        await first.publish("room1", delivery)
    await first.publish("room1", {"type": "likes", "total": 3})
    await inbox.wait_for(4)
    assert inbox.deliveries == [
        MUTED,
        banned,
        lifted,
        Delivery({"type": "likes", "total": 3}),
    ]
    assert [d.routed for d in inbox.deliveries] == [True, True, True, False]


async def test_the_previous_wire_form_is_still_read(
    checked_nodes: tuple[StoreRoomBus, StoreRoomBus], valkey: EmbeddedValkey, key_prefix: str
) -> None:
    """Nodes of the previous release put the routing inside the event (version 0)."""
    _, second = checked_nodes
    inbox = Inbox()
    await second.listen(Listener("room1", inbox.on_event))
    legacy = [
        {
            "type": "muted",
            "until": 1_700_000_000_000,
            "_to": "ann",
            "_timer": "user-mute",
            "_then_at": 1_700_000_000_000,
            "_then": {"type": "unmuted"},
        },
        {"type": "banned", "_to": "bob", "_close": 4403},
        {"type": "room_unmuted", "_timer": "room-mute"},
        {"type": "likes", "total": 3},
    ]
    client = second._client
    for event in legacy:
        await client.spublish(
            Keys(key_prefix).room_events("room1"), msgpack.packb(event, use_bin_type=True)
        )
    await inbox.wait_for(4)
    assert inbox.deliveries == [
        MUTED,
        Delivery({"type": "banned"}, to="bob", close_code=4403),
        Delivery({"type": "room_unmuted"}, timer=Timer("room-mute")),
        Delivery({"type": "likes", "total": 3}),
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([2, {"type": "chat"}], "wire version '2'"),  # a newer release's
        ([1, {"type": "review"}, {"to_staff": True}], "unknown routing"),  # cannot apply it
        ([1, {"type": "muted"}, {"to": 7}], "'to' must be a user id"),
        ([1, {"type": "muted"}, {"timer": ["user-mute", "soon", None]}], "'timer' must be"),
        ([1, {"no": "type"}], "a map with a string 'type'"),
        ([1, {"type": "a"}, {}, "extra"], "2 or 3 items"),
        ([True, {"type": "a"}], "wire version 'True'"),
        ("a string", "an array or a map"),
    ],
)
async def test_what_cannot_be_routed_safely_is_dropped(
    checked_nodes: tuple[StoreRoomBus, StoreRoomBus],
    key_prefix: str,
    payload: object,
    reason: str,
) -> None:
    first, second = checked_nodes
    with pytest.raises(ValueError, match=re.escape(reason)):
        decode_delivery(msgpack.packb(payload, use_bin_type=True))
    inbox = Inbox()
    await second.listen(Listener("room1", inbox.on_event))
    await second._client.spublish(
        Keys(key_prefix).room_events("room1"), msgpack.packb(payload, use_bin_type=True)
    )
    await first.publish("room1", {"type": "resync"})
    assert await inbox.wait_for(1) == [{"type": "resync"}]


async def test_a_node_refuses_to_publish_what_the_registry_does_not_allow(
    checked_nodes: tuple[StoreRoomBus, StoreRoomBus],
) -> None:
    first, second = checked_nodes
    inbox = Inbox()
    await second.listen(Listener("room1", inbox.on_event))
    refused = [
        Delivery({"type": "chat_edited", "id": "1-0"}),
        Delivery({"type": "order", "id": "o1", "status": "paid"}),  # to everyone: a leak
        Delivery({"type": "pong", "ts": 1}),
        Delivery({"type": "likes", "total": "many"}),
    ]
    for delivery in refused:
        with pytest.raises(EventError):
            await first.publish("room1", delivery)
    await first.publish("room1", {"type": "resync"})
    assert await inbox.wait_for(1) == [{"type": "resync"}]
    assert len(inbox.deliveries) == 1


async def test_the_apps_bus_checks_against_the_registry(cluster: Cluster) -> None:
    room = await cluster.room()
    with pytest.raises(EventError, match="not in the event registry"):
        await cluster.apps[0][BUS].publish(room, {"type": "chat_edited", "id": "1-0"})
