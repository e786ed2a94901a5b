"""Every feature on a 3-master Valkey cluster: keys spread over the masters, the money
path exact under a stampede, room events following a slot that moves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from livecommerce.bus import Delivery, Event, Listener, StoreRoomBus
from livecommerce.store.client import StoreClient, connect
from livecommerce.store.keys import Keys
from tests.integration.cluster import Cluster
from tests.integration.test_bus import carry_anything
from tests.integration.test_stampede import stampede
from tests.store_cluster import ValkeyCluster


async def test_rooms_keys_land_on_several_masters(
    on_cluster: Cluster, valkey_cluster: ValkeyCluster, key_prefix: str
) -> None:
    rooms = [await on_cluster.room(title=f"room {n}") for n in range(12)]
    keys = Keys(key_prefix)
    owners = {valkey_cluster.owner_of(keys.room(room)) for room in rooms}
    assert len(owners) >= 2, "twelve rooms all hashed to one master"
    for index in owners:
        with valkey_cluster.node_client(index) as node:
            assert any(node.scan_iter(match=f"{key_prefix}{{r:*}}:room", count=1000))
    status, listing = await on_cluster.api("GET", "/api/rooms?limit=50", node=1)
    assert status == 200, listing
    assert set(rooms) <= {room["id"] for room in listing["rooms"]}


@pytest.mark.timeout(300)
async def test_a_stampede_on_the_cluster_sells_exactly_the_stock(on_cluster: Cluster) -> None:
    await stampede(on_cluster, buyers_count=300, stock=100)


class Inbox:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.gaps = 0
        self.changed = asyncio.Event()

    def on_event(self, delivery: Delivery) -> None:
        self.events.append(delivery.event)
        self.changed.set()

    def on_gap(self) -> None:
        self.gaps += 1
        self.changed.set()

    async def wait_until(self, done: object, timeout_s: float = 10) -> None:
        async with asyncio.timeout(timeout_s):
            while not (callable(done) and done()):
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def cluster_client(valkey_cluster: ValkeyCluster) -> AsyncIterator[StoreClient]:
    client = connect(valkey_cluster.url, connect_timeout_s=1, command_timeout_s=2, retries=1)
    yield client
    await client.aclose()


async def test_room_events_follow_a_slot_that_moves_to_another_master(
    valkey_cluster: ValkeyCluster, cluster_client: StoreClient, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    other_client = connect(valkey_cluster.url, connect_timeout_s=1, command_timeout_s=2, retries=1)
    listener_bus, publisher_bus = (
        StoreRoomBus(cluster_client, keys, check=carry_anything),
        StoreRoomBus(other_client, keys, check=carry_anything),
    )
    await listener_bus.start()
    await publisher_bus.start()
    try:
        inbox = Inbox()
        await listener_bus.listen(Listener("moving", inbox.on_event, inbox.on_gap))
        await publisher_bus.publish("moving", {"type": "before"})
        await inbox.wait_until(lambda: len(inbox.events) == 1)
        channel = keys.room_events("moving")
        source = valkey_cluster.owner_of(channel)
        assert listener_bus.node_of("moving") == f"127.0.0.1:{valkey_cluster.ports[source]}"

        target = (source + 1) % valkey_cluster.masters
        await asyncio.to_thread(valkey_cluster.move_slot_of, channel, target)
        # The old owner drops the subscription; the bus subscribes on the new owner and
        # tells its listeners that events may have been missed.
        await inbox.wait_until(lambda: inbox.gaps >= 1)
        assert listener_bus.node_of("moving") == f"127.0.0.1:{valkey_cluster.ports[target]}"
        # A slot move can take the cluster more than one step (the old owner drops the
        # channel, a node answering from a stale slot map takes it for a moment): each step
        # is a gap, and what is published during one is lost (pub/sub is at most once).
        # Publish until an event arrives through the subscription on the new owner.
        async with asyncio.timeout(10):
            while len(inbox.events) < 2:
                await publisher_bus.publish("moving", {"type": "after"})
                with contextlib.suppress(TimeoutError):
                    await inbox.wait_until(lambda: len(inbox.events) >= 2, timeout_s=0.5)
        assert listener_bus.node_of("moving") == f"127.0.0.1:{valkey_cluster.ports[target]}"
        types = [event["type"] for event in inbox.events]
        assert types[0] == "before"
        assert set(types[1:]) == {"after"}
    finally:
        await listener_bus.stop()
        await publisher_bus.stop()
        await other_client.aclose()
