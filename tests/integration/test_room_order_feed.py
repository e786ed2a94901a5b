"""The staff's orders feed: one ``room_order`` per reservation, payment, cancellation and
expiry, to the room's anchor and moderators on every node, under a burst of buyers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway

BUYERS = 60
STOCK = 40


@pytest.fixture
def batch_buys() -> bool:
    return True


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    batch_buys: bool,
) -> AsyncIterator[Cluster]:
    sections = {"commerce": {"batch_buys": batch_buys}}
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


def orders_of(frames: list[dict[str, object]], status: str) -> list[dict[str, object]]:
    return [f for f in frames if f.get("type") == "room_order" and f["status"] == status]


@pytest.mark.parametrize("batch_buys", [True, False], ids=["batched", "one-call-per-buy"])
async def test_the_staff_get_one_frame_per_reservation_and_per_payment_under_a_burst(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room, price_cents=1800)
    flash = await sale(cluster, room, item["id"], quantity=STOCK, per_user_limit=1, price_cents=990)
    anchor = await cluster.join(room, "alice", role="anchor", wire="json")
    moderator = await cluster.join(room, "mo", role="moderator", node=1)
    buyers = [
        await cluster.join(room, f"buyer{n}", node=n % 2, wire="json" if n % 3 else "msgpack")
        for n in range(BUYERS)
    ]

    async def buy(n: int) -> dict[str, object]:
        client = buyers[n]
        mark = len(client.frames)
        await client.send({"type": "buy", "sale": flash["id"], "key": f"k{n}"})
        return await client.wait_for("buy_result", timeout_s=30, after=mark)

    answers = await asyncio.gather(*(buy(n) for n in range(BUYERS)))
    won = {str(a["order"]): f"buyer{n}" for n, a in enumerate(answers) if a["ok"]}
    assert len(won) == STOCK

    for staff in (anchor, moderator):
        reserved = await staff.wait_count(
            lambda f: f.get("type") == "room_order" and f["status"] == "reserved",
            STOCK,
            timeout_s=30,
        )
        assert len(reserved) == STOCK
        assert {str(f["id"]): f["user"] for f in reserved} == won
        assert {
            (f["product"], f["qty"], f["amount_cents"], f["currency"], f["source"])
            for f in reserved
        } == {(item["id"], 1, 990, "EUR", "sale")}

    # A retried buy (same key) is the same answer, not a second reservation.
    await buy(0)
    paid = list(won)[:5]
    backend = cluster.token("backend", "shop")
    for order in paid:
        status, _ = await cluster.api("POST", f"/api/orders/{order}/paid", backend, {})
        assert status == 200
        status, _ = await cluster.api("POST", f"/api/orders/{order}/paid", backend, {}, node=1)
        assert status == 200  # idempotent: no second frame
    cancelled = list(won)[5]
    status, _ = await cluster.api("POST", f"/api/orders/{cancelled}/cancel", backend, {})
    assert status == 200

    for staff in (anchor, moderator):
        await staff.wait_count(lambda f: f.get("type") == "room_order", STOCK + 6, timeout_s=30)
        await asyncio.sleep(0.3)  # nothing more arrives: one frame per change
        feed = [f for f in staff.frames if f.get("type") == "room_order"]
        assert Counter(str(f["status"]) for f in feed) == {
            "reserved": STOCK,
            "paid": 5,
            "cancelled": 1,
        }
        assert sorted(str(f["id"]) for f in orders_of(feed, "paid")) == sorted(paid)
        assert [f["user"] for f in orders_of(feed, "cancelled")] == [won[cancelled]]
    for client in buyers:
        assert not client.of_type("room_order")


async def test_an_expired_reservation_reaches_the_feed(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"], reservation_ttl_s=1)
    anchor = await cluster.join(room, "alice", role="anchor", node=1)
    buyer = await cluster.join(room, "bob")
    await buyer.send({"type": "buy", "sale": flash["id"], "key": "k", "qty": 2})
    answer = await buyer.wait_for("buy_result")
    assert answer["ok"], answer
    expired = await anchor.wait_for(
        lambda f: f.get("type") == "room_order" and f["status"] == "expired", timeout_s=15
    )
    assert (expired["id"], expired["user"], expired["qty"], expired["amount_cents"]) == (
        answer["order"],
        "bob",
        2,
        1980,
    )
    assert not buyer.of_type("room_order")


async def test_an_auctions_winner_and_a_giveaways_winners_reach_the_feed(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room, price_cents=1800)
    anchor = await cluster.join(room, "alice", role="anchor", node=1)
    bidder = await cluster.join(room, "bob")
    won = await auction(cluster, room, item["id"], start_price_cents=500)
    await bidder.send({"type": "bid", "auction": won["id"], "amount_cents": 700, "key": "b"})
    assert (await bidder.wait_for("bid_result"))["ok"]
    alice = cluster.token("anchor", "alice")
    status, _ = await cluster.api("POST", f"/api/rooms/{room}/auctions/{won['id']}/end", alice)
    assert status == 200
    ended = await bidder.wait_for("auction_ended")
    frame = await anchor.wait_for("room_order", timeout_s=15)
    assert frame == {
        "type": "room_order",
        "id": ended["order"],
        "status": "reserved",
        "user": "bob",
        "product": item["id"],
        "qty": 1,
        "amount_cents": 700,
        "currency": "EUR",
        "source": "auction",
    }

    mark = len(anchor.frames)
    gift = await giveaway(cluster, room, product_id=item["id"], winners=2)
    for name in ("bob", "mia", "kenji"):
        entrant = bidder if name == "bob" else await cluster.join(room, name)
        await entrant.send({"type": "enter", "giveaway": gift["id"]})
        assert (await entrant.wait_for("enter_result"))["ok"]
    status, _ = await cluster.api("POST", f"/api/giveaways/{gift['id']}/end", alice)
    assert status == 200
    drawn = await bidder.wait_for("giveaway_ended", timeout_s=15)
    frames = await anchor.wait_count("room_order", 2, timeout_s=15, after=mark)
    assert [f["user"] for f in frames] == drawn["winners"]
    assert {(f["source"], f["amount_cents"], f["product"]) for f in frames} == {
        ("giveaway", 0, item["id"])
    }
    assert not bidder.of_type("room_order")
