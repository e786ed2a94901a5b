"""Products, flash sales and orders through the API and the channel, on two nodes."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from livecommerce.web.state import ORDERS, SALES
from tests.integration.channel_client import pass_marker
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import outbox, product, room_with_sale, sale

BACKEND = ("backend", "shop")


async def test_pinning_shows_the_product_to_every_viewer_at_once(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    viewers = [await cluster.join(room, node=n) for n in (0, 1)]
    item = await product(cluster, room, image_url="https://cdn.example/tea.jpg")
    assert item["price_cents"] == 1800
    status, body = await cluster.api(
        "POST",
        f"/api/rooms/{room}/pin",
        cluster.token("anchor", "alice"),
        {"product_id": item["id"]},
    )
    assert status == 200, body
    for viewer in viewers:
        assert (await viewer.wait_for("product_pinned"))["product"] == item
    newcomer = await cluster.join(room)
    assert newcomer.of_type("welcome")[0]["pinned_product"] == item
    _, state = await cluster.api("GET", f"/api/rooms/{room}")
    assert state["pinned_product"] == item
    _, listing = await cluster.api("GET", f"/api/rooms/{room}/products")
    assert listing["products"] == [item]
    for client in (*viewers, newcomer):
        await client.close()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"title": "x", "price_cents": 1, "currency": "EUR"}, "missing_field"),
        ({"sku": "a", "title": "x", "price_cents": -1, "currency": "EUR"}, "invalid_field"),
        ({"sku": "a", "title": "x", "price_cents": "1", "currency": "EUR"}, "invalid_field"),
        ({"sku": "a", "title": "x", "price_cents": 1, "currency": "euro"}, "invalid_field"),
        (
            {
                "sku": "a",
                "title": "x",
                "price_cents": 1,
                "currency": "EUR",
                "image_url": "javascript:x",
            },
            "invalid_field",
        ),
        (
            {"sku": "a", "title": "x", "price_cents": 1, "currency": "EUR", "stock": 3},
            "unknown_field",
        ),
    ],
)
async def test_bad_products_are_refused(cluster: Cluster, body: dict[str, Any], code: str) -> None:
    room = await cluster.room(anchor="alice")
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/products", cluster.token("anchor", "alice"), body
    )
    assert (status, answer["error"]["code"]) == (400, code)


async def test_only_the_rooms_anchor_manages_its_products_and_sales(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster)
    bob = cluster.token("anchor", "bob")
    status, answer = await cluster.api(
        "POST",
        f"/api/rooms/{room}/products",
        bob,
        {"sku": "a", "title": "x", "price_cents": 1, "currency": "EUR"},
    )
    assert (status, answer["error"]["code"]) == (403, "not_your_room")
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/sales/{open_sale['id']}/stop", bob
    )
    assert (status, answer["error"]["code"]) == (403, "not_your_room")
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/pin", cluster.token("viewer", "v"), {"product_id": "p"}
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden_role")
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/pin", cluster.token("anchor", "alice"), {"product_id": "p_nope"}
    )
    assert (status, answer["error"]["code"]) == (404, "product_not_found")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quantity": 0}, "invalid_field"),
        ({"per_user_limit": 0}, "invalid_field"),
        ({"duration_s": None}, "missing_field"),
        ({"reservation_ttl_s": 10**9}, "invalid_field"),
        ({"starts_at": 1}, "invalid_field"),
        ({"price_cents": 1.5}, "invalid_field"),
        ({"product_id": "p_missing"}, "product_not_found"),
    ],
)
async def test_bad_sales_are_refused(cluster: Cluster, change: dict[str, Any], code: str) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    body = {
        "product_id": item["id"],
        "price_cents": 990,
        "quantity": 10,
        "per_user_limit": 2,
        "duration_s": 60,
        "reservation_ttl_s": 60,
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/sales", cluster.token("anchor", "alice"), body
    )
    assert answer["error"]["code"] == code
    assert status in (400, 404)


async def test_a_sale_opens_sells_and_tells_everyone(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    watcher = await cluster.join(room, "watcher", node=1)
    item = await product(cluster, room)
    opened = await sale(cluster, room, item["id"], quantity=3, per_user_limit=2)
    assert opened["status"] == "open"
    assert opened["left"] == 3
    started = await watcher.wait_for("sale_started")
    assert started["sale"]["id"] == opened["id"]
    buyer = await cluster.join(room, "bea", node=0)
    assert [s["id"] for s in buyer.of_type("welcome")[0]["sales"]] == [opened["id"]]

    await buyer.send({"type": "buy", "sale": opened["id"], "qty": 2, "key": "k1"})
    result = await buyer.wait_for("buy_result")
    assert result["ok"] is True
    assert result["key"] == "k1"
    assert result["expires_at"] > time.time() * 1000
    stock = await watcher.wait_for(lambda f: f.get("type") == "sale_stock" and f["left"] == 1)
    assert stock["sale"] == opened["id"]

    await buyer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "k2"})
    refused = await buyer.wait_for(lambda f: f.get("type") == "buy_result" and f["key"] == "k2")
    assert refused == {"type": "buy_result", "key": "k2", "ok": False, "reason": "limit_reached"}

    other = await cluster.join(room, "olga", node=1)
    await other.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "x"})
    assert (await other.wait_for("buy_result"))["ok"] is True
    assert (await watcher.wait_for("sold_out"))["sale"] == opened["id"]
    late = await cluster.join(room, "lou", node=0)
    await late.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "y"})
    assert (await late.wait_for("buy_result"))["reason"] == "sold_out"

    status, state = await cluster.api("GET", f"/api/rooms/{room}/sales/{opened['id']}")
    assert status == 200
    assert (state["status"], state["left"], state["reserved"], state["sold"]) == (
        "sold_out",
        0,
        3,
        0,
    )
    for client in (watcher, buyer, other, late):
        await client.close()


async def test_the_same_key_gets_the_same_answer(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster, per_user_limit=5)
    buyer = await cluster.join(room, "bea")
    for _ in range(3):
        await buyer.send({"type": "buy", "sale": open_sale["id"], "qty": 1, "key": "once"})
    await buyer.wait_count("buy_result", 3)
    other_node = await cluster.join(room, "bea", node=1)
    await other_node.send({"type": "buy", "sale": open_sale["id"], "qty": 1, "key": "once"})
    await other_node.wait_for("buy_result")
    for client in (buyer, other_node):
        await client.sync()
    answers = buyer.of_type("buy_result") + other_node.of_type("buy_result")
    assert len(answers) == 4
    assert all(a == answers[0] for a in answers)
    _, state = await cluster.api("GET", f"/api/rooms/{room}/sales/{open_sale['id']}")
    assert state["reserved"] == 1
    created = [e for e in await outbox(cluster, room) if e["type"] == "order.created"]
    assert len(created) == 1


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "buy", "sale": "s", "key": "k", "qty": 0}, "invalid_field"),
        ({"type": "buy", "sale": "s", "key": ""}, "invalid_field"),
        ({"type": "buy", "sale": 5, "key": "k"}, "invalid_field"),
        ({"type": "buy", "key": "k"}, "missing_field"),
    ],
)
async def test_bad_buy_frames_get_error_frames(
    cluster: Cluster, frame: dict[str, Any], code: str
) -> None:
    room = await cluster.room()
    buyer = await cluster.join(room, "b")
    await buyer.send(frame)
    assert (await buyer.wait_for("error"))["code"] == code
    await buyer.close()


async def test_who_may_not_buy(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster)
    anonymous = await cluster.join(room)
    await anonymous.send({"type": "buy", "sale": open_sale["id"], "qty": 1, "key": "k"})
    assert (await anonymous.wait_for("error"))["code"] == "sign_in_required"
    status, _ = await cluster.api(
        "POST",
        f"/api/rooms/{room}/moderation/ban",
        cluster.token("moderator", "m"),
        {"user": "crook"},
    )
    assert status == 200
    # A banned user cannot even join the channel; the reserve script refuses them too,
    # for a buy that raced the ban.
    orders = cluster.apps[1][ORDERS]
    refused = await orders.buy(room, open_sale["id"], "crook", 1, "race")
    assert refused.body == {"ok": False, "reason": "banned"}
    status, _ = await cluster.api(
        "POST",
        f"/api/rooms/{room}/moderation/unban",
        cluster.token("moderator", "m"),
        {"user": "crook"},
    )
    assert status == 200
    allowed = await orders.buy(room, open_sale["id"], "crook", 1, "race")
    assert allowed.body["ok"] is True
    buyer = await cluster.join(room, "bea")
    await buyer.send({"type": "buy", "sale": "s_unknown", "qty": 1, "key": "k"})
    assert (await buyer.wait_for("buy_result"))["reason"] == "sale_not_found"
    await anonymous.close()
    await buyer.close()


async def test_a_scheduled_sale_starts_on_time_and_a_stopped_one_ends(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    watcher = await cluster.join(room, "w", node=1)
    starts_at = int(time.time() * 1000) + 1500
    later = await sale(cluster, room, item["id"], starts_at=starts_at)
    assert later["status"] == "scheduled"
    buyer = await cluster.join(room, "bea")
    await buyer.send({"type": "buy", "sale": later["id"], "qty": 1, "key": "early"})
    assert (await buyer.wait_for("buy_result"))["reason"] == "sale_not_started"
    started = await watcher.wait_for("sale_started", timeout_s=6)
    assert started["sale"]["status"] == "open"
    assert time.time() * 1000 >= starts_at
    # Both nodes' clock workers race to start it; only the first announces it.
    for app in cluster.apps:
        await app[SALES].advance(room, later["id"])
    await buyer.send({"type": "buy", "sale": later["id"], "qty": 1, "key": "now"})
    assert (await buyer.wait_for(lambda f: f.get("key") == "now"))["ok"] is True
    _, state = await cluster.api("GET", f"/api/rooms/{room}", node=1)
    assert [(s["id"], s["left"]) for s in state["sales"]] == [(later["id"], later["quantity"] - 1)]
    status, stopped = await cluster.api(
        "POST", f"/api/rooms/{room}/sales/{later['id']}/stop", cluster.token("moderator", "m")
    )
    assert (status, stopped["status"]) == (200, "ended")
    assert (await watcher.wait_for("sale_ended"))["sale"]["id"] == later["id"]
    await buyer.send({"type": "buy", "sale": later["id"], "qty": 1, "key": "after"})
    assert (await buyer.wait_for(lambda f: f.get("key") == "after"))["reason"] == "sale_ended"
    assert (await cluster.api("GET", f"/api/rooms/{room}"))[1]["sales"] == []
    # A clock worker that read the sale as due before the stop advances it late.
    for app in cluster.apps:
        await app[SALES].advance(room, later["id"])
    await pass_marker(buyer, watcher, text="after the stop")
    assert len(watcher.of_type("sale_ended")) == 1
    assert len(watcher.of_type("sale_started")) == 1
    await watcher.close()
    await buyer.close()


async def buy_one(
    cluster: Cluster, room: str, sale_id: str, user: str, key: str = "k"
) -> tuple[Any, str]:
    buyer = await cluster.join(room, user)
    await buyer.send({"type": "buy", "sale": sale_id, "qty": 1, "key": key})
    result = await buyer.wait_for("buy_result")
    assert result["ok"] is True, result
    return buyer, str(result["order"])


async def test_payment_is_idempotent_and_told_to_the_buyer(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster)
    buyer, order_id = await buy_one(cluster, room, open_sale["id"], "bea")
    for _ in range(2):
        status, order = await cluster.api(
            "POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND), node=1
        )
        assert (status, order["status"]) == (200, "paid")
    assert order["user"] == "bea"
    assert order["amount_cents"] == 990
    assert order["paid_at"] >= order["created_at"]
    update = await buyer.wait_for("order")
    assert update == {"type": "order", "id": order_id, "status": "paid"}
    await pass_marker(buyer, text="paid twice")
    assert len(buyer.of_type("order")) == 1
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/cancel", cluster.token(*BACKEND)
    )
    assert (status, answer["error"]["code"]) == (409, "order_paid")
    _, state = await cluster.api("GET", f"/api/rooms/{room}/sales/{open_sale['id']}")
    assert (state["sold"], state["reserved"], state["left"]) == (1, 0, 9)
    status, mine = await cluster.api(
        "GET", f"/api/orders/{order_id}", cluster.token("viewer", "bea")
    )
    assert (status, mine["status"]) == (200, "paid")
    status, answer = await cluster.api(
        "GET", f"/api/orders/{order_id}", cluster.token("viewer", "eve")
    )
    assert (status, answer["error"]["code"]) == (403, "not_your_order")
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/paid", cluster.token("viewer", "bea")
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden_role")
    await buyer.close()


async def test_cancelling_returns_stock_once(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster, quantity=1, per_user_limit=1)
    buyer, order_id = await buy_one(cluster, room, open_sale["id"], "bea")
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/cancel", cluster.token("viewer", "eve")
    )
    assert (status, answer["error"]["code"]) == (403, "not_your_order")
    for _ in range(2):
        status, order = await cluster.api(
            "POST", f"/api/orders/{order_id}/cancel", cluster.token("viewer", "bea")
        )
        assert (status, order["status"]) == (200, "cancelled")
    assert (await buyer.wait_for("order"))["status"] == "cancelled"
    _, state = await cluster.api("GET", f"/api/rooms/{room}/sales/{open_sale['id']}")
    assert (state["left"], state["reserved"]) == (1, 0)
    # The per-user count came back too: the same buyer may buy again.
    await buyer.send({"type": "buy", "sale": open_sale["id"], "qty": 1, "key": "again"})
    assert (await buyer.wait_for(lambda f: f.get("key") == "again"))["ok"] is True
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND)
    )
    assert (status, answer["error"]["code"]) == (409, "order_cancelled")
    await buyer.close()


async def test_an_unpaid_reservation_expires_and_returns_its_stock(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster, quantity=1, reservation_ttl_s=1)
    buyer, order_id = await buy_one(cluster, room, open_sale["id"], "bea")
    update = await buyer.wait_for("order", timeout_s=6)
    assert update == {"type": "order", "id": order_id, "status": "expired"}
    _, state = await cluster.api("GET", f"/api/rooms/{room}/sales/{open_sale['id']}")
    assert (state["left"], state["reserved"], state["status"]) == (1, 0, "open")
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND)
    )
    assert (status, answer["error"]["code"]) == (409, "order_expired")
    types = [e["type"] for e in await outbox(cluster, room)]
    assert types == ["order.created", "order.expired"]
    await buyer.close()


async def test_paying_after_expiry_is_refused_and_the_stock_returns(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster, quantity=1, reservation_ttl_s=1)
    buyer, order_id = await buy_one(cluster, room, open_sale["id"], "bea")
    await asyncio.sleep(1.05)
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND)
    )
    assert status == 409
    assert answer["error"]["code"] in ("reservation_expired", "order_expired")
    sale_state = await cluster.apps[0][SALES].get(room, open_sale["id"])
    assert (sale_state.stock, sale_state.reserved) == (1, 0)
    await buyer.close()


async def test_outbox_events_carry_the_order(cluster: Cluster) -> None:
    room, open_sale = await room_with_sale(cluster)
    buyer, order_id = await buy_one(cluster, room, open_sale["id"], "bea")
    await cluster.api("POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND))
    events = await outbox(cluster, room)
    assert [(e["id"], e["type"]) for e in events] == [
        (f"evt_{order_id}_created", "order.created"),
        (f"evt_{order_id}_paid", "order.paid"),
    ]
    data = json.loads(events[1]["data"])
    assert data["id"] == order_id
    assert (data["user"], data["qty"], data["amount_cents"], data["currency"], data["status"]) == (
        "bea",
        1,
        990,
        "EUR",
        "paid",
    )
    assert int(events[1]["timestamp"]) == data["paid_at"]
    await buyer.close()


async def test_room_stats_and_daily_active_buyers(cluster: Cluster) -> None:
    from livecommerce.commerce.orders import utc_day

    room, open_sale = await room_with_sale(cluster, per_user_limit=1)
    status, before = await cluster.api(
        "GET", f"/api/stats/dab?date={utc_day()}", cluster.token("admin", "root")
    )
    assert status == 200
    buyers = []
    for name in ("ann", "bob", "cid"):
        client, order_id = await buy_one(cluster, room, open_sale["id"], f"{name}-{room}")
        buyers.append(client)
        if name != "cid":
            await cluster.api("POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND))
    await buyers[0].wait_for(lambda f: f.get("type") == "viewers" and f["count"] == 3)
    status, stats = await cluster.api(
        "GET", f"/api/rooms/{room}/stats", cluster.token("anchor", "alice")
    )
    assert status == 200
    assert (stats["orders"], stats["paid_orders"], stats["buyers"]) == (3, 2, 3)
    assert stats["gmv_cents"] == {"EUR": 1980}
    assert stats["peak_viewers"] >= 3
    assert stats["conversion"] == round(3 / stats["peak_viewers"], 4)
    status, after = await cluster.api(
        "GET", f"/api/stats/dab?date={utc_day()}", cluster.token("admin", "root")
    )
    assert after["daily_active_buyers"] - before["daily_active_buyers"] == 3
    status, answer = await cluster.api(
        "GET", "/api/stats/dab?date=2026-13-45", cluster.token("admin", "root")
    )
    assert (status, answer["error"]["code"]) == (400, "invalid_parameter")
    status, answer = await cluster.api("GET", "/api/stats/dab", cluster.token("moderator", "m"))
    assert (status, answer["error"]["code"]) == (403, "forbidden_role")
    status, answer = await cluster.api(
        "GET", f"/api/rooms/{room}/stats", cluster.token("anchor", "bob")
    )
    assert (status, answer["error"]["code"]) == (403, "not_your_room")
    for client in buyers:
        await client.close()


@pytest.mark.parametrize("order_id", ["nosuch", "nosuchroom-123", "-", "a-"])
async def test_unknown_orders_are_404(cluster: Cluster, order_id: str) -> None:
    status, answer = await cluster.api(
        "POST", f"/api/orders/{order_id}/paid", cluster.token(*BACKEND)
    )
    assert (status, answer["error"]["code"]) == (404, "order_not_found")
