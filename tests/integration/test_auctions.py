"""Live auctions: the increment table, proxy maximums, anti-snipe and sudden death, the
reserve, the winner's order, and the broadcast rate."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livecommerce.commerce.auctions import ANSWERS_FIRST_MAX_INTERVALS, AuctionService
from livecommerce.config import FormatsSettings
from livecommerce.store.batch import StoreBatcher
from livecommerce.web.state import STORE_CONTEXT
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, order_events


async def bid(client: ChannelClient, auction_id: str, amount: int, key: str, **extra: Any) -> Any:
    mark = len(client.frames)
    frame = {"type": "bid", "auction": auction_id, "amount_cents": amount, "key": key, **extra}
    await client.send(frame)
    answer = await client.wait_for("bid_result", after=mark)
    answer.pop("type")
    answer.pop("key")
    answer.pop("auction")
    return answer


async def test_increments_and_proxy_maximums(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(
        cluster, room, item["id"], start_price_cents=100, increment_table=[[0, 100], [3000, 500]]
    )
    assert (lot["min_next_cents"], lot["status"], lot["amount_cents"]) == (100, "open", None)
    bob = await cluster.join(room, "bob")
    carol = await cluster.join(room, "carol", node=1)

    assert await bid(bob, lot["id"], 99, "b0") == {
        "ok": False,
        "leading": False,
        "reason": "bid_too_low",
        "min_cents": 100,
    }
    assert await bid(bob, lot["id"], 100, "b1") == {
        "ok": True,
        "leading": True,
        "amount_cents": 100,
    }
    assert await bid(bob, lot["id"], 100, "b1") == {
        "ok": True,
        "leading": True,
        "amount_cents": 100,
    }
    assert (await bid(carol, lot["id"], 150, "c1"))["min_cents"] == 200
    # Carol's maximum of 10.00 bids for her: the price moves one step at a time.
    assert await bid(carol, lot["id"], 200, "c2", max_cents=1000) == {
        "ok": True,
        "leading": True,
        "amount_cents": 200,
    }
    assert await bid(bob, lot["id"], 300, "b2") == {
        "ok": True,
        "leading": False,
        "amount_cents": 400,
        "reason": "outbid",
    }
    # An equal maximum: the earlier keeps the lead.
    assert await bid(bob, lot["id"], 1000, "b3") == {
        "ok": True,
        "leading": False,
        "amount_cents": 1000,
        "reason": "outbid",
    }
    assert await bid(bob, lot["id"], 2900, "b4", max_cents=3500) == {
        "ok": True,
        "leading": True,
        "amount_cents": 2900,
    }
    # The leader may raise their maximum, not bid against themselves.
    assert (await bid(bob, lot["id"], 3200, "b5"))["reason"] == "already_leading"
    assert (await bid(carol, lot["id"], 2950, "c3"))["min_cents"] == 3000
    # Above 30.00 the step is 5.00: Bob's maximum answers Carol's 30.00 with 35.00.
    assert await bid(carol, lot["id"], 3000, "c4") == {
        "ok": True,
        "leading": False,
        "amount_cents": 3500,
        "reason": "outbid",
    }
    status, state = await cluster.api("GET", f"/api/rooms/{room}/auctions/{lot['id']}")
    assert status == 200
    assert (state["leader"], state["amount_cents"], state["min_next_cents"]) == ("bob", 3500, 4000)
    assert state["bids"] == 6


async def test_the_winner_gets_an_order_through_the_outbox(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=60, reserve_price_cents=500)
    bob = await cluster.join(room, "bob")
    watcher = await cluster.join(room, "dave", node=1)
    await bid(bob, lot["id"], 600, "b1")
    shown = await watcher.wait_for("auction_bid")
    assert (shown["leader"], shown["amount_cents"], shown["min_next_cents"]) == ("bob", 600, 700)

    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200
    assert (ended["status"], ended["winner"]) == ("ended", "bob")
    told = await watcher.wait_for("auction_ended")
    assert (told["winner"], told["amount_cents"], told["order"]) == ("bob", 600, ended["order"])
    assert (await bid(bob, lot["id"], 5000, "late"))["reason"] == "auction_ended"

    buyer = cluster.token("viewer", "bob")
    status, order = await cluster.api("GET", f"/api/orders/{told['order']}", buyer)
    assert status == 200
    assert (order["source"], order["ref"], order["amount_cents"], order["status"]) == (
        "auction",
        lot["id"],
        600,
        "reserved",
    )
    status, paid = await cluster.api(
        "POST", f"/api/orders/{told['order']}/paid", cluster.token("backend", "shop")
    )
    assert (status, paid["status"]) == (200, "paid")
    events = [(t, d) for t, d in await order_events(cluster, room) if d["id"] == told["order"]]
    assert [t for t, _ in events] == ["order.created", "order.paid"]
    assert all(d["source"] == "auction" and d["auction"] == lot["id"] for _, d in events)
    status, stats = await cluster.api("GET", f"/api/rooms/{room}/stats", anchor)
    assert (stats["bids"], stats["orders"], stats["paid_orders"]) == (1, 1, 1)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    status, dab = await cluster.api(
        "GET", f"/api/stats/dab?date={today}", cluster.token("admin", "root")
    )
    assert (status, dab["daily_active_buyers"]) == (200, 1)
    # Ending again changes nothing and tells nobody twice.
    status, again = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert (status, again["order"]) == (200, ended["order"])
    await watcher.sync()
    assert len(watcher.of_type("auction_ended")) == 1


async def test_an_unmet_reserve_sells_nothing(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=60, reserve_price_cents=5000)
    bob = await cluster.join(room, "bob")
    await bid(bob, lot["id"], 100, "b1")
    anchor = cluster.token("anchor", "alice")
    status, _ = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200
    told = await bob.wait_for("auction_ended", timeout_s=10)
    assert (told["winner"], told["order"], told["reason"]) == (None, None, "reserve_not_met")
    assert not [d for _, d in await order_events(cluster, room) if d.get("auction") == lot["id"]]


async def test_anti_snipe_extends_and_sudden_death_does_not(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    bob = await cluster.join(room, "bob")
    # Every bid of a 4 s auction falls in its last 10 s: each moves the end.
    sniped = await auction(cluster, room, item["id"], duration_s=4, anti_snipe_s=10)
    sudden = await auction(cluster, room, item["id"], duration_s=4, sudden_death=True)
    assert (sudden["anti_snipe_s"], sudden["sudden_death"]) == (0, True)
    before = time.time() * 1000
    await bid(bob, sniped["id"], 100, "s1")
    await bid(bob, sudden["id"], 100, "d1")
    status, state = await cluster.api("GET", f"/api/rooms/{room}/auctions/{sniped['id']}")
    assert status == 200
    assert state["ends_at"] > sniped["ends_at"]
    assert state["ends_at"] >= before + 9000  # now + 10 s by the store's clock (skew allowed)
    status, state = await cluster.api("GET", f"/api/rooms/{room}/auctions/{sudden['id']}")
    assert state["ends_at"] == sudden["ends_at"]

    ended = await bob.wait_for(
        lambda f: f.get("type") == "auction_ended" and f["auction"] == sudden["id"], timeout_s=20
    )
    assert ended["winner"] == "bob"
    assert (await bid(bob, sudden["id"], 500, "d2"))["reason"] == "auction_ended"
    assert (await bid(bob, sniped["id"], 100, "s2"))["reason"] == "already_leading"
    carol = await cluster.join(room, "carol")
    assert (await bid(carol, sniped["id"], 200, "c1"))["ok"] is True  # still open
    await bob.wait_for(
        lambda f: f.get("type") == "auction_ended" and f["auction"] == sniped["id"], timeout_s=30
    )


async def test_prices_are_broadcast_at_most_every_100_ms(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=60)
    bidders = [await cluster.join(room, f"u{n}", node=n % 2) for n in range(2)]
    watcher = await cluster.join(room, "dave")
    started = time.monotonic()
    amount = 100
    for n in range(40):
        answer = await bid(bidders[n % 2], lot["id"], amount, f"k{n}")
        assert answer["ok"] is True, answer
        amount += 500
        await asyncio.sleep(0.01)
    span = time.monotonic() - started
    last = await watcher.wait_for(
        lambda f: f.get("type") == "auction_bid" and f["amount_cents"] == amount - 500, timeout_s=5
    )
    shown = watcher.of_type("auction_bid")
    assert last is shown[-1]
    # One broadcast per 100 ms at most (plus the first), over both nodes.
    assert len(shown) <= span / 0.1 + 2
    assert len(shown) < 40


async def test_the_winner_may_cancel_and_nothing_returns_to_a_sale(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=60)
    bob = await cluster.join(room, "bob")
    await bid(bob, lot["id"], 700, "b1")
    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200
    buyer = cluster.token("viewer", "bob")
    status, cancelled = await cluster.api("POST", f"/api/orders/{ended['order']}/cancel", buyer)
    assert (status, cancelled["status"], cancelled["source"]) == (200, "cancelled", "auction")
    told = await bob.wait_for("order")
    assert (told["id"], told["status"]) == (ended["order"], "cancelled")
    events = [(t, d) for t, d in await order_events(cluster, room) if d["id"] == ended["order"]]
    assert [t for t, _ in events] == ["order.created", "order.cancelled"]
    assert all(
        (d["auction"], d["sale"], d["amount_cents"]) == (lot["id"], None, 700) for _, d in events
    )


async def test_an_announcement_waits_for_the_answers_of_bids_in_flight(cluster: Cluster) -> None:
    """Answers first: the price broadcast waits while this node's bids of the auction wait
    for their answers, then announces the price they left."""
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=600)
    watcher = await cluster.join(room, "wes")
    app = cluster.apps[0]
    store = app[STORE_CONTEXT]
    batcher = StoreBatcher(store.client, scripts=store.scripts, metrics=store.metrics)
    # A service of its own: the node's worker never announces what this one's bids change.
    settings = FormatsSettings(bid_broadcast_interval_s=0.001)
    service = AuctionService(store=store, settings=settings, batcher=batcher)
    assert (await service.bid(room, lot["id"], "bob", 100, 0, "k1")).result.leading
    second = asyncio.create_task(service.bid(room, lot["id"], "carl", 200, 0, "k2"))
    await asyncio.sleep(0)  # the second bid waits in the batcher for the store
    assert not second.done()
    await service.announce_changes()  # waits for the second bid's answer
    assert (await second).result.leading
    await asyncio.sleep(0.01)
    await service.announce_changes()
    announced = await watcher.wait_for("auction_bid")
    assert (announced["leader"], announced["amount_cents"]) == ("carl", 200)
    await asyncio.sleep(0.2)
    assert len(watcher.of_type("auction_bid")) == 1
    await watcher.close()
    await batcher.aclose()


async def test_bids_always_in_flight_delay_an_announcement_a_few_intervals_at_most(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=600)
    watcher = await cluster.join(room, "wes")
    store = cluster.apps[0][STORE_CONTEXT]
    batcher = StoreBatcher(store.client, scripts=store.scripts, metrics=store.metrics)
    interval_s = 0.01
    settings = FormatsSettings(bid_broadcast_interval_s=interval_s)
    service = AuctionService(store=store, settings=settings, batcher=batcher)
    assert (await service.bid(room, lot["id"], "bob", 100, 0, "k1")).result.leading
    in_flight = asyncio.create_task(service.bid(room, lot["id"], "carl", 200, 0, "k2"))
    await asyncio.sleep(0)
    await service.announce_changes()  # waits: a bid is in flight
    await in_flight
    await asyncio.sleep(ANSWERS_FIRST_MAX_INTERVALS * interval_s)
    still = asyncio.create_task(service.bid(room, lot["id"], "dan", 300, 0, "k3"))
    await asyncio.sleep(0)
    assert not still.done()
    await service.announce_changes()  # waited long enough: announces although one is in flight
    announced = await watcher.wait_for("auction_bid")
    assert announced["leader"] in ("carl", "dan")
    await still
    await watcher.close()
    await batcher.aclose()
