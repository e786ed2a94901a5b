"""Every order reads the same whatever made it (a flash sale, an auction, a giveaway, a
replay): `GET /api/orders/{id}` and every webhook event carry the documented fields
(docs/hooks.md, docs/api.md), with null — never "" — for what the order does not have,
and name the auction, giveaway or replay that made it."""

from __future__ import annotations

from typing import Any

from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, giveaway, order_events
from tests.integration.test_recording_replay_buy import replay_showing


async def read_order(cluster: Cluster, order_id: str) -> dict[str, Any]:
    status, order = await cluster.api(
        "GET", f"/api/orders/{order_id}", cluster.token("backend", "shop")
    )
    assert status == 200, order
    assert isinstance(order, dict)
    return order


async def test_a_giveaway_without_a_product_gives_null_product_and_currency(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    prize = await giveaway(cluster, room)
    bob = await cluster.join(room, "bob")
    await bob.send({"type": "enter", "giveaway": prize["id"]})
    assert (await bob.wait_for("enter_result"))["ok"] is True
    status, ended = await cluster.api(
        "POST", f"/api/giveaways/{prize['id']}/end", cluster.token("anchor", "alice")
    )
    assert status == 200, ended
    (order_id,) = ended["orders"]

    order = await read_order(cluster, order_id)
    assert (order["sale"], order["product_id"], order["currency"]) == (None, None, None)
    assert (order["source"], order["giveaway"]) == ("giveaway", prize["id"])
    events = [(kind, data) for kind, data in await order_events(cluster, room)]
    assert [kind for kind, _ in events] == ["order.created", "order.paid"]
    for _, data in events:
        assert (data["sale"], data["product_id"], data["currency"]) == (None, None, None)
        assert (data["voucher"], data["discount_cents"]) == (None, 0)


async def test_an_auction_order_reads_with_a_null_sale_and_names_its_auction(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(cluster, room, product_id=item["id"])
    bob = await cluster.join(room, "bob")
    await bob.send({"type": "bid", "auction": lot["id"], "amount_cents": 100, "key": "b"})
    assert (await bob.wait_for("bid_result"))["ok"] is True
    status, ended = await cluster.api(
        "POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", cluster.token("anchor", "alice")
    )
    assert status == 200, ended

    order = await read_order(cluster, ended["order"])
    assert (order["sale"], order["product_id"]) == (None, item["id"])
    assert (order["source"], order["auction"]) == ("auction", lot["id"])
    ((kind, data),) = await order_events(cluster, room)
    assert (kind, data["sale"], data["auction"]) == ("order.created", None, lot["id"])


async def test_a_replay_order_event_carries_voucher_and_discount_like_every_order(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    replay = await replay_showing(cluster, room, item)
    status, answer = await cluster.api(
        "POST",
        f"/api/replays/{replay}/orders",
        cluster.token("viewer", "bob"),
        {"product_id": item["id"], "key": "k1"},
    )
    assert status == 201, answer

    ((kind, data),) = await order_events(cluster, room)
    assert (kind, data["source"], data["replay"]) == ("order.created", "replay", replay)
    assert (data["voucher"], data["discount_cents"]) == (None, 0)
    order = await read_order(cluster, answer["order"])
    assert (order["source"], order["replay"], order["sale"]) == (
        "replay",
        replay,
        f"replay_{item['id']}",
    )
    assert (order["voucher"], order["discount_cents"]) == (None, 0)
