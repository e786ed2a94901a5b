"""Vouchers: the anchor's lifecycle, claims with their limits, and a claim spent on a buy."""

from __future__ import annotations

from typing import Any

from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import order_events, set_watch, voucher


async def claim(client: Any, voucher_id: str, key: str) -> dict[str, Any]:
    mark = len(client.frames)
    await client.send({"type": "claim", "voucher": voucher_id, "key": key})
    return await client.wait_for("claim_result", after=mark)


async def buy(client: Any, sale_id: str, key: str, **extra: Any) -> dict[str, Any]:
    mark = len(client.frames)
    await client.send({"type": "buy", "sale": sale_id, "qty": 1, "key": key, **extra})
    return await client.wait_for("buy_result", after=mark)


async def test_drop_pin_end_are_told_to_everyone_and_gate_claims(cluster: Cluster) -> None:
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    watcher = await cluster.join(room, "bob", node=1)
    ready = await voucher(cluster, room, drop=False)
    assert ready["status"] == "ready"
    assert (await claim(watcher, ready["id"], "k1"))["reason"] == "voucher_not_dropped"

    status, dropped = await cluster.api(
        "POST", f"/api/rooms/{room}/vouchers/{ready['id']}/drop", anchor
    )
    assert status == 200
    assert dropped["status"] == "live"
    frame = await watcher.wait_for("voucher_dropped")
    assert frame["voucher"]["id"] == ready["id"]
    status, _ = await cluster.api("POST", f"/api/rooms/{room}/vouchers/{ready['id']}/pin", anchor)
    assert status == 200
    assert (await watcher.wait_for("voucher_pinned"))["voucher"]["id"] == ready["id"]

    late = await cluster.join(room, "carol")
    welcome = late.of_type("welcome")[0]
    assert [v["id"] for v in welcome["formats"]["vouchers"]] == [ready["id"]]
    assert welcome["formats"]["pinned_voucher"] == ready["id"]

    first = await claim(watcher, ready["id"], "k2")
    assert first["ok"] is True
    assert first["claim"].startswith("c_")
    assert (await watcher.wait_for("voucher_stock"))["left"] == 9
    status, ended = await cluster.api(
        "POST", f"/api/rooms/{room}/vouchers/{ready['id']}/end", anchor
    )
    assert status == 200
    assert ended["status"] == "ended"
    await watcher.wait_for("voucher_ended")
    assert (await claim(late, ready["id"], "k3"))["reason"] == "voucher_ended"
    status, mine = await cluster.api(
        "GET", f"/api/rooms/{room}/claims", cluster.token("viewer", "bob")
    )
    assert status == 200
    assert [(c["id"], c["state"]) for c in mine["claims"]] == [(first["claim"], "unused")]


async def test_the_per_user_limit_and_the_same_key(cluster: Cluster) -> None:
    room = await cluster.room()
    offer = await voucher(cluster, room, quantity=5, per_user_limit=2)
    bob = await cluster.join(room, "bob")
    other_node = await cluster.join(room, "bob", node=1)
    first = await claim(bob, offer["id"], "a")
    assert first["ok"] is True
    assert await claim(other_node, offer["id"], "a") == first  # a retry, on another node
    assert (await claim(other_node, offer["id"], "b"))["ok"] is True
    assert (await claim(bob, offer["id"], "c"))["reason"] == "limit_reached"
    status, state = await cluster.api("GET", f"/api/rooms/{room}/vouchers/{offer['id']}")
    assert status == 200
    assert (state["left"], state["claimed"]) == (3, 2)
    status, stats = await cluster.api(
        "GET", f"/api/rooms/{room}/stats", cluster.token("anchor", "alice")
    )
    assert (status, stats["voucher_claims"]) == (200, 2)


async def test_watch_time_is_read_from_the_servers_measure(cluster: Cluster) -> None:
    room = await cluster.room()
    offer = await voucher(cluster, room, watch_s_required=120)
    bob = await cluster.join(room, "bob")
    assert (await claim(bob, offer["id"], "a"))["reason"] == "watch_time_short"
    await set_watch(cluster, room, "bob", 119)
    assert (await claim(bob, offer["id"], "b"))["reason"] == "watch_time_short"
    await set_watch(cluster, room, "bob", 120)
    assert (await claim(bob, offer["id"], "c"))["ok"] is True


async def test_a_claim_discounts_one_buy_and_comes_back_when_the_order_is_cancelled(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"], price_cents=990, per_user_limit=5)
    offer = await voucher(cluster, room, discount_cents=300)
    bob = await cluster.join(room, "bob")
    claimed = (await claim(bob, offer["id"], "c"))["claim"]

    bought = await buy(bob, flash["id"], "b1", voucher_claim=claimed)
    assert bought["ok"] is True
    buyer = cluster.token("viewer", "bob")
    status, order = await cluster.api("GET", f"/api/orders/{bought['order']}", buyer)
    assert status == 200
    assert (order["amount_cents"], order["discount_cents"]) == (690, 300)
    assert (order["voucher"], order["voucher_claim"]) == (offer["id"], claimed)
    # One claim, one order: never again, and never stacked.
    again = await buy(bob, flash["id"], "b2", voucher_claim=claimed)
    assert again == {"type": "buy_result", "key": "b2", "ok": False, "reason": "voucher_not_usable"}
    plain = await buy(bob, flash["id"], "b3", voucher_claim="best")
    assert plain["ok"] is True  # "best" with nothing usable buys at the full price
    status, full = await cluster.api("GET", f"/api/orders/{plain['order']}", buyer)
    assert (full["amount_cents"], full["voucher"]) == (990, None)

    status, _ = await cluster.api("POST", f"/api/orders/{bought['order']}/cancel", buyer)
    assert status == 200
    rebought = await buy(bob, flash["id"], "b4", voucher_claim="best")
    status, order = await cluster.api("GET", f"/api/orders/{rebought['order']}", buyer)
    assert (order["amount_cents"], order["voucher_claim"]) == (690, claimed)

    events = [(t, d) for t, d in await order_events(cluster, room) if d["id"] == bought["order"]]
    assert [t for t, _ in events] == ["order.created", "order.cancelled"]
    for _, data in events:
        assert (data["voucher"], data["discount_cents"], data["source"]) == (
            offer["id"],
            300,
            "sale",
        )
        assert data["amount_cents"] == 690


async def test_best_takes_the_claim_worth_most_and_min_spend_holds(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"], price_cents=2000, per_user_limit=5)
    small = await voucher(cluster, room, discount_cents=100)
    percent = await voucher(cluster, room, discount_cents=None, percent_off=20)
    big = await voucher(cluster, room, discount_cents=1500, min_spend_cents=5000)
    bob = await cluster.join(room, "bob")
    claims = {}
    for offer in (small, percent, big):
        claims[offer["id"]] = (await claim(bob, offer["id"], offer["id"]))["claim"]

    too_little = await buy(bob, flash["id"], "x", voucher_claim=claims[big["id"]])
    assert too_little["reason"] == "min_spend_not_met"
    best = await buy(bob, flash["id"], "y", voucher_claim="best")
    status, order = await cluster.api(
        "GET", f"/api/orders/{best['order']}", cluster.token("viewer", "bob")
    )
    assert status == 200
    assert (order["voucher"], order["discount_cents"], order["amount_cents"]) == (
        percent["id"],
        400,
        1600,
    )
    alice_claim = claims[small["id"]]
    carol = await cluster.join(room, "carol")
    stolen = await buy(carol, flash["id"], "z", voucher_claim=alice_claim)
    assert stolen["reason"] == "voucher_not_usable"


async def test_an_expired_reservation_gives_its_claim_back(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"], price_cents=990, reservation_ttl_s=1)
    offer = await voucher(cluster, room, discount_cents=300)
    bob = await cluster.join(room, "bob")
    claimed = (await claim(bob, offer["id"], "c"))["claim"]
    bought = await buy(bob, flash["id"], "b1", voucher_claim=claimed)
    buyer = cluster.token("viewer", "bob")
    status, mine = await cluster.api("GET", f"/api/rooms/{room}/claims", buyer)
    assert [(c["state"], c["order"]) for c in mine["claims"]] == [("used", bought["order"])]
    expired = await bob.wait_for("order", timeout_s=15)
    assert (expired["id"], expired["status"]) == (bought["order"], "expired")
    status, mine = await cluster.api("GET", f"/api/rooms/{room}/claims", buyer)
    assert (status, [c["state"] for c in mine["claims"]]) == (200, ["unused"])
    events = [t for t, d in await order_events(cluster, room) if d["id"] == bought["order"]]
    assert events == ["order.created", "order.expired"]
