"""Ending a room ends what still runs of its selling formats, as their own end would, and
announces each outcome before ``room_ended``: the auction's leader wins, the giveaway
draws, the voucher stops taking claims."""

from __future__ import annotations

from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, giveaway, order_events, voucher
from tests.integration.test_auctions import bid
from tests.integration.test_giveaways import enter


async def test_ending_a_room_closes_its_auction_draws_its_giveaway_and_ends_its_voucher(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    lot = await auction(cluster, room, item["id"], duration_s=600)
    prize = await giveaway(cluster, room, duration_s=600)
    coupon = await voucher(cluster, room)
    bidder = await cluster.join(room, "bob", node=1)
    watcher = await cluster.join(room, "wes", node=0)
    assert (await bid(bidder, lot["id"], 100, "k1"))["leading"] is True
    assert (await enter(bidder, prize["id"]))["ok"] is True

    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/rooms/{room}/end", anchor)
    assert status == 200, ended
    assert ended["status"] == "ended"

    for client in (bidder, watcher):
        won = await client.wait_for("auction_ended", timeout_s=10)
        assert (won["auction"], won["winner"], won["amount_cents"]) == (lot["id"], "bob", 100)
        drawn = await client.wait_for("giveaway_ended", timeout_s=10)
        assert (drawn["giveaway"], drawn["winners"]) == (prize["id"], ["bob"])
        stopped = await client.wait_for("voucher_ended", timeout_s=10)
        assert stopped["voucher"]["id"] == coupon["id"]
        closing = await client.wait_for("room_ended", timeout_s=10)
        types = [f.get("type") for f in client.frames]
        for outcome in ("auction_ended", "giveaway_ended", "voucher_ended"):
            assert types.index(outcome) < types.index("room_ended"), (outcome, closing)

    status, after = await cluster.api("GET", f"/api/rooms/{room}/auctions/{lot['id']}", anchor)
    assert status == 200
    assert (after["status"], after["winner"]) == ("ended", "bob"), after
    created = [data for kind, data in await order_events(cluster, room) if kind == "order.created"]
    assert {data.get("auction") for data in created} >= {lot["id"]}
    assert any(data.get("giveaway") == prize["id"] for data in created)

    # Ending twice changes nothing and announces nothing again.
    mark = len(watcher.frames)
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    for client in (bidder, watcher):
        await client.close()
    assert [f for f in watcher.frames[mark:] if f.get("type") == "auction_ended"] == []
