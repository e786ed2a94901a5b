"""Setting up products and sales through the public API."""

from __future__ import annotations

from typing import Any

from tests.integration.cluster import Cluster


async def product(
    cluster: Cluster, room: str, anchor: str = "alice", **fields: Any
) -> dict[str, Any]:
    body = {
        "sku": "TEA-1",
        "title": "Oolong 100 g",
        "price_cents": 1800,
        "currency": "EUR",
        **fields,
    }
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/products", cluster.token("anchor", anchor), body
    )
    assert status == 201, answer
    return answer


async def sale(
    cluster: Cluster, room: str, product_id: str, anchor: str = "alice", **fields: Any
) -> dict[str, Any]:
    body = {
        "product_id": product_id,
        "price_cents": 990,
        "quantity": 10,
        "per_user_limit": 2,
        "duration_s": 600,
        "reservation_ttl_s": 300,
        **fields,
    }
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/sales", cluster.token("anchor", anchor), body
    )
    assert status == 201, answer
    return answer


async def room_with_sale(cluster: Cluster, **fields: Any) -> tuple[str, dict[str, Any]]:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    return room, await sale(cluster, room, item["id"], **fields)


async def outbox(cluster: Cluster, room: str) -> list[dict[str, str]]:
    """The room's outbox stream as the hooks (or a backend) read it."""
    from livecommerce.store.decoding import decode_entries
    from livecommerce.store.keys import Keys
    from livecommerce.web.state import SETTINGS, STORE

    app = cluster.apps[0]
    keys = Keys(app[SETTINGS].store.key_prefix)
    return [fields for _, fields in decode_entries(await app[STORE].xrange(keys.outbox(room)))]
