"""``store.min_replicas_ack`` beyond buys, on the replicated cluster (3 masters + 3
replicas): payments and cancels over HTTP, claims, the auction winner's order, the giveaway
winners' orders and replay buys are answered only once a replica holds them; a money call
the cluster redirected gets its own WAIT; and a payment answered to the backend survives
a master SIGKILLed while payments are in flight."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.cluster import ClusterNode, RedisCluster

from livecommerce.commerce.orders import reserve_call
from livecommerce.config import DiscoverySettings
from livecommerce.metrics import Metrics
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.store.replies import ReserveReply
from livecommerce.web.state import STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory
from tests.integration.commerce_helpers import product, room_with_sale, sale
from tests.integration.every_format import replays
from tests.integration.formats_helpers import auction, giveaway, voucher
from tests.integration.test_cluster_failover import nodes_on
from tests.store_cluster import ValkeyCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ORDERS = 150
RETRY_S = 0.2


async def test_every_money_path_waits_for_its_replicas(
    replicated: ValkeyCluster,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    """Asking for two replicas where one exists: no money path answers as done (503
    store_unavailable, or that error frame); with one, the same calls answer."""
    async for relaxed in nodes_on(
        aiohttp_server, replicated, tmp_path, key_prefix, token, {"min_replicas_ack": 1}
    ):
        room = await relaxed.room()
        item = await product(relaxed, room)
        flash = await sale(relaxed, room, item["id"], per_user_limit=5)
        offer = await voucher(relaxed, room)
        lot = await auction(relaxed, room, item["id"], duration_s=600)
        prize = await giveaway(relaxed, room, product_id=item["id"], duration_s=600)
        bea = await relaxed.join(room, "bea")
        orders = []
        for key in ("pay", "cancel"):
            await bea.send({"type": "buy", "sale": flash["id"], "key": key})
            got = await bea.wait_for(
                lambda f, k=key: f.get("type") == "buy_result" and f["key"] == k
            )
            assert got["ok"] is True, got
            orders.append(str(got["order"]))
        await bea.send({"type": "bid", "auction": lot["id"], "amount_cents": 500, "key": "b"})
        assert (await bea.wait_for("bid_result"))["ok"] is True
        await bea.send({"type": "enter", "giveaway": prize["id"]})
        assert (await bea.wait_for("enter_result"))["ok"] is True
        await bea.close()
        replay_id = await replays(relaxed, room, item, "zoe", relaxed.token("backend", "shop"))

    async def money_calls(nodes: Cluster) -> dict[str, Any]:
        backend, anchor = nodes.token("backend", "shop"), nodes.token("anchor", "alice")
        bea = await nodes.join(room, "bea")
        await bea.send({"type": "claim", "voucher": offer["id"], "key": "c"})
        claim = await bea.wait_for(lambda f: f.get("type") in ("claim_result", "error"))
        await bea.close()
        viewer = nodes.token("viewer", "ann")
        body = {"product_id": item["id"], "key": "r"}
        answers = {
            "pay": await nodes.api("POST", f"/api/orders/{orders[0]}/paid", backend),
            "cancel": await nodes.api("POST", f"/api/orders/{orders[1]}/cancel", backend),
            "auction": await nodes.api(
                "POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor
            ),
            "giveaway": await nodes.api("POST", f"/api/giveaways/{prize['id']}/end", anchor),
            "replay": await nodes.api("POST", f"/api/replays/{replay_id}/orders", viewer, body),
        }
        return {"claim": claim, **{name: answer[0] for name, answer in answers.items()}}

    strict_store = {"min_replicas_ack": 2, "replica_ack_timeout_s": 0.2}
    async for strict in nodes_on(
        aiohttp_server, replicated, tmp_path, key_prefix, token, strict_store
    ):
        refused = await money_calls(strict)
    claim = refused.pop("claim")
    assert (claim["type"], claim.get("code")) == ("error", "store_unavailable"), claim
    assert refused == dict.fromkeys(refused, 503)
    async for relaxed in nodes_on(
        aiohttp_server, replicated, tmp_path, key_prefix, token, {"min_replicas_ack": 1}
    ):
        answered = await money_calls(relaxed)
    assert answered.pop("claim")["ok"] is True
    # The strict round's master ran the replay buy: the same key now gets that order (200).
    assert answered == {"pay": 200, "cancel": 200, "auction": 200, "giveaway": 200, "replay": 200}


async def test_a_redirected_money_call_gets_its_own_wait(
    replicated: ValkeyCluster,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    """The room's slot moves to another master behind the client's back: the reserve is
    answered MOVED, runs again on the new owner, and a WAIT follows it there."""
    async for nodes in nodes_on(aiohttp_server, replicated, tmp_path, key_prefix, token, {}):
        await redirected(nodes, replicated, Keys(key_prefix))


def durable_batcher(replicated: ValkeyCluster) -> tuple[RedisCluster, StoreBatcher]:
    """A batcher on a client of its own: its slot map changes only on its own redirects."""
    client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", replicated.ports[0])])
    scripts = ScriptRunner(client, metrics=Metrics())
    return client, StoreBatcher(client, scripts=scripts, metrics=Metrics(), min_replicas_ack=1)


async def reserve(batcher: StoreBatcher, keys: Keys, room: str, sale_id: str, user: str) -> str:
    call = reserve_call(keys, DiscoverySettings(), room, sale_id, user, 1, "k")
    reply = await batcher.call(ReserveReply, *call)
    assert reply.answer.order is not None, reply
    return reply.answer.order


async def redirected(nodes: Cluster, replicated: ValkeyCluster, keys: Keys) -> None:
    room, flash = await room_with_sale(nodes, quantity=10, per_user_limit=5)
    client, batcher = durable_batcher(replicated)
    await reserve(batcher, keys, room, str(flash["id"]), "ann")
    assert batcher.waits_sent == 1
    owner = replicated.owner_of(keys.room(room))
    target = (owner + 1) % replicated.masters
    await asyncio.to_thread(replicated.move_slot_of, keys.room(room), target)
    await reserve(batcher, keys, room, str(flash["id"]), "bob")
    # The batch's WAIT on the old owner, then the redirected call's on the new one.
    assert batcher.waits_sent == 3
    assert replicated.owner_of(keys.room(room)) == target
    await reserve(batcher, keys, room, str(flash["id"]), "cid")
    assert batcher.waits_sent == 4  # the client knows the new owner now: no redirect
    held = await nodes.apps[0][STORE].hgetall(keys.sale(room, str(flash["id"])))
    assert int(held[b"reserved"]) == 3
    await batcher.aclose()
    await client.aclose()


async def test_a_payment_answered_survives_a_master_killed_mid_payments(
    replicated: ValkeyCluster,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    async for nodes in nodes_on(
        aiohttp_server, replicated, tmp_path, key_prefix, token, {"min_replicas_ack": 1}
    ):
        await payments_through_a_failover(nodes, replicated, Keys(key_prefix))


class Payer:
    """Pays orders over HTTP as a backend does: a 503 ``store_unavailable`` is retried."""

    def __init__(self, nodes: Cluster) -> None:
        self.nodes = nodes
        self.token = nodes.token("backend", "shop")
        self.answered: dict[str, str] = {}
        self.unavailable = 0
        self.quarter = asyncio.Event()
        self.total = 0

    async def pay(self, order: str, node: int) -> None:
        deadline = time.monotonic() + 90
        while True:
            path = f"/api/orders/{order}/paid"
            status, body = await self.nodes.api("POST", path, self.token, node=node)
            if status == 200:
                self.answered[order] = body["status"]
                if len(self.answered) >= self.total // 4:
                    self.quarter.set()
                return
            assert status == 503, (status, body)
            assert body["error"]["code"] == "store_unavailable", body
            assert time.monotonic() < deadline, f"{order}: never paid"
            self.unavailable += 1
            await asyncio.sleep(RETRY_S)

    async def pay_all(self, orders: list[str]) -> None:
        self.total = len(orders)
        for start in range(0, len(orders), 10):
            chunk = orders[start : start + 10]
            await asyncio.gather(*(self.pay(order, n % 2) for n, order in enumerate(chunk)))


async def payments_through_a_failover(
    nodes: Cluster, replicated: ValkeyCluster, keys: Keys
) -> None:
    room, flash = await room_with_sale(nodes, quantity=ORDERS, per_user_limit=1)
    client, batcher = durable_batcher(replicated)
    orders = list(
        await asyncio.gather(
            *(reserve(batcher, keys, room, str(flash["id"]), f"u{n}") for n in range(ORDERS))
        )
    )
    await batcher.aclose()
    await client.aclose()
    payer = Payer(nodes)
    owner = replicated.owner_of(keys.room(room))
    paying = asyncio.ensure_future(payer.pay_all(orders))
    await asyncio.wait_for(payer.quarter.wait(), 60)
    replicated.kill(owner)
    killed_at = time.monotonic()
    replica = replicated.masters + owner
    while replicated.role(replica) != "master":
        assert time.monotonic() - killed_at < 60, "the replica to take over"
        await asyncio.sleep(0.05)
    # The promoted master needs a replica of its own to answer again.
    replicated.restart(owner)
    await asyncio.to_thread(replicated.wait_replica_link, owner)
    await asyncio.wait_for(paying, 120)
    recovered_s = time.monotonic() - killed_at

    store = nodes.apps[0][STORE]
    assert payer.answered == dict.fromkeys(orders, "paid")
    statuses = [as_text(await store.hget(keys.order(room, o), "status")) for o in orders]
    assert statuses == ["paid"] * ORDERS
    held = await store.hgetall(keys.sale(room, str(flash["id"])))
    assert (int(held[b"sold"]), int(held[b"reserved"])) == (ORDERS, 0)
    events = {as_text(f[b"id"]) for _, f in await store.xrange(keys.outbox(room))}
    assert {f"evt_{o}_paid" for o in orders} <= events
    print(
        f"failover during payments: {ORDERS} payments answered, {payer.unavailable} "
        f"store_unavailable answers retried, all answered {recovered_s:.1f} s after the kill"
    )
