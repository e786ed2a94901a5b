"""The funnel's buy steps describe one population when the selling formats are used: the
flash sales' buyers, in totals and unique users alike, while auction, giveaway and replay
orders stay in their own rows (``formats.orders``); the frozen report and the CSV say the
same; and everyone who placed an order is still a buyer for the room's stats, the
buyers-only giveaway and the moderator's user card."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway
from tests.integration.test_recording_replay_buy import replay_showing

pytestmark = pytest.mark.timeout(120)
BUY_STEPS = ("buy_attempts", "reserved", "paid")


cluster = cluster_with({"analytics": {"watch_interval_s": 0.2}})


async def win_auction(cluster: Cluster, room: str, product_id: str, user: str) -> str:
    """``user`` bids alone and the anchor ends the auction: the winner's order id."""
    lot = await auction(cluster, room, product_id, start_price_cents=500)
    bidder = await cluster.join(room, user, node=1)
    await bidder.send({"type": "bid", "auction": lot["id"], "amount_cents": 500, "key": "b"})
    assert (await bidder.wait_for("bid_result"))["ok"] is True
    await bidder.close()
    anchor = cluster.token("anchor", "alice")
    status, sold = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200, sold
    assert sold["order"], sold
    return str(sold["order"])


async def draw_giveaway(cluster: Cluster, room: str, product_id: str, user: str) -> None:
    """``user`` enters alone and the anchor ends the giveaway: one winner, one order."""
    draw = await giveaway(cluster, room, product_id=product_id)
    entrant = await cluster.join(room, user)
    await entrant.send({"type": "enter", "giveaway": draw["id"]})
    assert (await entrant.wait_for("enter_result"))["ok"] is True
    await entrant.close()
    anchor = cluster.token("anchor", "alice")
    status, drawn = await cluster.api("POST", f"/api/giveaways/{draw['id']}/end", anchor)
    assert status == 200, drawn
    assert len(drawn["orders"]) == 1, drawn


async def buy_from_replay(cluster: Cluster, room: str, item: dict[str, Any], user: str) -> str:
    replay = await replay_showing(cluster, room, item)
    status, answer = await cluster.api(
        "POST",
        f"/api/replays/{replay}/orders",
        cluster.token("viewer", user),
        {"product_id": item["id"], "key": "r"},
    )
    assert status == 201, answer
    return str(answer["order"])


async def pay(cluster: Cluster, *orders: str) -> None:
    backend = cluster.token("backend", "shop")
    for order in orders:
        assert (await cluster.api("POST", f"/api/orders/{order}/paid", backend))[0] == 200


def buy_funnel(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
    funnel = report["funnel"]
    return {step: (funnel[step]["total"], funnel[step]["users"]) for step in BUY_STEPS}


async def test_the_buy_steps_are_the_flash_sales_in_totals_and_users(cluster: Cluster) -> None:
    # The acceptance run: 2 flash-sale buys by one user, an auction won by another, a
    # giveaway drawn for a third; and a replay buy by a fourth. Every order is paid.
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    item = await product(cluster, room)
    prize = await product(cluster, room, sku="TEA-2", title="Tea set", price_cents=0)
    opened = await sale(cluster, room, item["id"], per_user_limit=2)
    ann = await cluster.join(room, "ann")
    orders = []
    for key in ("k1", "k2"):
        await ann.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": key})
        answer = await ann.wait_for(lambda f, k=key: f["type"] == "buy_result" and f["key"] == k)
        assert answer["ok"] is True, answer
        orders.append(str(answer["order"]))
    await ann.close()
    orders.append(await win_auction(cluster, room, item["id"], "bob"))
    await draw_giveaway(cluster, room, prize["id"], "cat")
    orders.append(await buy_from_replay(cluster, room, item, "dan"))
    await pay(cluster, *orders)

    _, live = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor, node=1)

    assert buy_funnel(live) == {"buy_attempts": (2, 1), "reserved": (2, 1), "paid": (2, 1)}
    funnel = live["funnel"]
    users = [funnel[step]["users"] for step in ("entries", *BUY_STEPS)]
    assert users == sorted(users, reverse=True)  # no step has more users than the one before
    rates = {(c["from"], c["to"]): c["rate"] for c in live["conversion"]}
    assert rates[("buy_attempts", "reserved")] == 1.0
    assert rates[("reserved", "paid")] == 1.0
    assert all(0 <= rate <= 1 for rate in rates.values())
    sources = {row["source"]: (row["orders"], row["paid"]) for row in live["formats"]["orders"]}
    assert sources == {"sale": (2, 2), "auction": (1, 1), "giveaway": (1, 1), "replay": (1, 1)}
    assert (funnel["reserved"]["total"], funnel["paid"]["total"]) == sources["sale"]
    # The per-source rows still add up to the room's counters, and all three paying
    # buyers are the room's buyers (a giveaway's winner placed no order).
    _, stats = await cluster.api("GET", f"/api/rooms/{room}/stats", anchor)
    assert sum(o for o, _ in sources.values()) == stats["orders"] == 5
    assert sum(p for _, p in sources.values()) == stats["paid_orders"] == 5
    assert stats["buyers"] == 3
    # The live's orders of every source are in the product rows and the orders series;
    # a replay's is not (a sale of the recording: formats.orders has it).
    products = {row["product"]: row for row in live["products"]}
    assert (products[item["id"]]["reserved"], products[item["id"]]["paid"]) == (3, 3)
    assert (products[prize["id"]]["reserved"], products[prize["id"]]["paid"]) == (1, 1)
    assert sum(row["reserved"] for row in live["orders"]) == 4
    assert sum(row["paid"] for row in live["orders"]) == 4

    # Ending the room freezes the same funnel; the CSV of either says it too.
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    _, frozen = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    assert frozen["frozen"] is True
    assert frozen["funnel"] == live["funnel"]
    assert frozen["conversion"] == live["conversion"]
    assert frozen["formats"]["orders"] == live["formats"]["orders"]
    rows = await csv_rows(cluster, room, anchor)
    from_csv = {(r[1], r[3]): int(r[4]) for r in rows if r[0] == "funnel"}
    for step, (total, unique) in buy_funnel(frozen).items():
        assert (from_csv[(step, "total")], from_csv[(step, "users")]) == (total, unique)


async def test_a_buyer_of_both_kinds_is_one_reserver_and_one_buyer(cluster: Cluster) -> None:
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    item = await product(cluster, room)
    opened = await sale(cluster, room, item["id"])
    await win_auction(cluster, room, item["id"], "bob")
    bob = await cluster.join(room, "bob")
    await bob.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "k"})
    assert (await bob.wait_for("buy_result"))["ok"] is True
    await bob.close()

    _, report = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    _, stats = await cluster.api("GET", f"/api/rooms/{room}/stats", anchor)

    assert buy_funnel(report) == {"buy_attempts": (1, 1), "reserved": (1, 1), "paid": (0, 0)}
    assert (stats["orders"], stats["buyers"]) == (2, 1)


async def test_auction_winners_and_replay_buyers_may_enter_a_buyers_only_giveaway(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    await win_auction(cluster, room, item["id"], "bob")
    await buy_from_replay(cluster, room, item, "dan")
    draw = await giveaway(cluster, room, eligibility={"buyers_only": True})
    answers = {}
    for user in ("bob", "dan", "eve"):
        client = await cluster.join(room, user)
        await client.send({"type": "enter", "giveaway": draw["id"]})
        answers[user] = await client.wait_for("enter_result")
        await client.close()

    assert answers["bob"]["ok"] is True, answers
    assert answers["dan"]["ok"] is True, answers
    assert (answers["eve"]["ok"], answers["eve"]["reason"]) == (False, "buyers_only")
    # The moderator's user card says so too.
    moderator = cluster.token("moderator", "mo")
    for user, bought in (("bob", True), ("dan", True), ("eve", False)):
        status, card = await cluster.api("GET", f"/api/rooms/{room}/users/{user}", moderator)
        assert status == 200, card
        assert card["buyer"] is bought, card


async def csv_rows(cluster: Cluster, room: str, token: str) -> list[list[str]]:
    async with cluster.http.get(
        f"{cluster.urls[0]}/api/rooms/{room}/analytics.csv",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, await response.text()
        return list(csv.reader(io.StringIO(await response.text())))
