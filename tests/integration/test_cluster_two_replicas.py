"""Two replicas per master (3 masters + 6 replicas): with ``store.min_replicas_ack = 1``, a
master SIGKILLed mid-sale fails over to one of its replicas, the other follows the new
master, and buys are answered again without waiting for the failed node to come back;
no reservation answered to a buyer is lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys
from livecommerce.web.state import STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory
from tests.integration.commerce_helpers import room_with_sale
from tests.integration.test_cluster_failover import Buyer, acked_count, nodes_on, until
from tests.store_cluster import ValkeyCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

BUYERS = 8
STOCK = 5000


@pytest.fixture
def doubly_replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    cluster = ValkeyCluster(
        tmp_path_factory.mktemp("two-replicas"), masters=3, replicas=6, node_timeout_ms=1000
    )
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def acked(
    doubly_replicated: ValkeyCluster,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in nodes_on(
        aiohttp_server, doubly_replicated, tmp_path, key_prefix, token, {"min_replicas_ack": 1}
    ):
        yield value


async def test_with_two_replicas_buys_resume_without_the_failed_master(
    acked: Cluster, doubly_replicated: ValkeyCluster, key_prefix: str
) -> None:
    store = doubly_replicated
    room, sale = await room_with_sale(acked, quantity=STOCK, per_user_limit=STOCK)
    keys = Keys(key_prefix)
    owner = store.owner_of(keys.room(room))
    replicas = [store.masters + owner, 2 * store.masters + owner]
    buyers = [
        Buyer(await acked.join(room, f"buyer{n}", node=n % 2), str(sale["id"]), f"buyer{n}")
        for n in range(BUYERS)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(b.run(stop)) for b in buyers]
    try:
        await until(lambda: acked_count(buyers) >= 40, "buys before the kill")
        store.kill(owner)
        killed_at, before = time.monotonic(), acked_count(buyers)
        await until(
            lambda: any(store.role(r) == "master" for r in replicas), "a replica to take over"
        )
        promoted_s = time.monotonic() - killed_at
        # The failed master stays down: the other replica follows the promoted one, and a
        # WAIT 1 is met again.
        await until(lambda: acked_count(buyers) >= before + 40, "buys after the failover")
        recovered_s = time.monotonic() - killed_at
        assert not store.alive(owner)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 90)

    client = acked.apps[0][STORE]
    orders = {str(a["order"]) for b in buyers for a in b.answers.values()}
    assert len(orders) == acked_count(buyers)
    missing = [o for o in orders if not await client.exists(keys.order(room, o))]
    assert missing == []
    held = await client.hgetall(keys.sale(room, str(sale["id"])))
    assert int(held[b"reserved"]) + int(held[b"sold"]) == len(orders)
    assert int(held[b"stock"]) == STOCK - len(orders)
    events = {as_text(f[b"id"]) for _, f in await client.xrange(keys.outbox(room))}
    assert {f"evt_{o}_created" for o in orders} <= events
    retried = sum(b.retries for b in buyers)
    print(
        f"two replicas per master: {len(orders)} buys answered, {retried} store_unavailable "
        f"answers retried, replica promoted {promoted_s:.1f} s after the kill, buys answered "
        f"again {recovered_s:.1f} s after it (the failed master still down)"
    )
    for buyer in buyers:
        await buyer.client.close()
