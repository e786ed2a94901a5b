"""Money rules of a flash sale, each with a test of its own.

Two users sending the same idempotency key get two orders: see
tests/security/test_idempotency_scope.py::test_two_users_with_the_same_key_get_two_orders.
"""

from __future__ import annotations

from tests.integration.channel_client import ChannelClient, Frame
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import outbox, room_with_sale


async def buy(client: ChannelClient, sale_id: str, qty: int, key: str) -> Frame:
    await client.send({"type": "buy", "sale": sale_id, "qty": qty, "key": key})
    return await client.wait_for(lambda f: f.get("type") == "buy_result" and f["key"] == key)


async def sale_figures(cluster: Cluster, room: str, sale_id: str) -> tuple[int, int, int]:
    status, state = await cluster.api("GET", f"/api/rooms/{room}/sales/{sale_id}")
    assert status == 200, state
    return state["left"], state["reserved"], state["sold"]


async def orders_created(cluster: Cluster, room: str) -> int:
    return sum(1 for event in await outbox(cluster, room) if event["type"] == "order.created")


async def test_a_buy_of_more_units_than_the_user_has_left_is_refused_whole(
    cluster: Cluster,
) -> None:
    """Limit 3: after 2 units, a buy of 2 is refused ``limit_reached`` (not cut down to
    the 1 unit left) and nothing moves; a first buy above the whole limit is refused too;
    the 1 unit left under the limit can still be bought."""
    room, flash = await room_with_sale(cluster, quantity=10, per_user_limit=3)
    sale_id = flash["id"]
    bea = await cluster.join(room, "bea")
    assert (await buy(bea, sale_id, 2, "first"))["ok"] is True
    assert await sale_figures(cluster, room, sale_id) == (8, 2, 0)

    over = await buy(bea, sale_id, 2, "over")
    assert over == {"type": "buy_result", "key": "over", "ok": False, "reason": "limit_reached"}
    assert await sale_figures(cluster, room, sale_id) == (8, 2, 0)
    assert await orders_created(cluster, room) == 1

    olga = await cluster.join(room, "olga", node=1)
    too_many = await buy(olga, sale_id, 4, "all-at-once")
    assert (too_many["ok"], too_many["reason"]) == (False, "limit_reached")
    assert await sale_figures(cluster, room, sale_id) == (8, 2, 0)
    assert await orders_created(cluster, room) == 1

    assert (await buy(bea, sale_id, 1, "last"))["ok"] is True
    assert await sale_figures(cluster, room, sale_id) == (7, 3, 0)
    assert (await buy(bea, sale_id, 1, "one-more"))["reason"] == "limit_reached"
    assert await sale_figures(cluster, room, sale_id) == (7, 3, 0)
    assert await orders_created(cluster, room) == 2
    for client in (bea, olga):
        await client.close()
