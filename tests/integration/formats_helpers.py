"""Setting up vouchers, auctions and giveaways through the public API, and reading what
the store holds of them."""

from __future__ import annotations

import json
from typing import Any

from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.integration.cluster import Cluster


def keys(cluster: Cluster) -> Keys:
    return Keys(cluster.apps[0][SETTINGS].store.key_prefix)


async def create(
    cluster: Cluster, room: str, kind: str, body: dict[str, Any], anchor: str = "alice"
) -> dict[str, Any]:
    """POST /api/rooms/{room}/{kind} as the room's anchor; the 201 body."""
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/{kind}", cluster.token("anchor", anchor), body
    )
    assert status == 201, answer
    return answer


async def voucher(
    cluster: Cluster, room: str, anchor: str = "alice", **fields: Any
) -> dict[str, Any]:
    body = {"title": "3 EUR off", "discount_cents": 300, "quantity": 10, "per_user_limit": 1}
    return await create(cluster, room, "vouchers", {**body, **fields}, anchor)


async def auction(
    cluster: Cluster, room: str, product_id: str, anchor: str = "alice", **fields: Any
) -> dict[str, Any]:
    body = {"product_id": product_id, "start_price_cents": 100, "duration_s": 30}
    return await create(cluster, room, "auctions", {**body, **fields}, anchor)


async def giveaway(
    cluster: Cluster, room: str, anchor: str = "alice", **fields: Any
) -> dict[str, Any]:
    body = {"title": "Tea for two", "winners": 1, "duration_s": 30}
    return await create(cluster, room, "giveaways", {**body, **fields}, anchor)


async def set_watch(cluster: Cluster, room: str, user: str, seconds: int) -> None:
    """What the presence measurement would have written for ``user``."""
    await cluster.apps[0][STORE].hset(keys(cluster).room_watch(room), user, seconds)


async def order_events(cluster: Cluster, room: str) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of every outbox entry of the room."""
    from livecommerce.store.decoding import decode_entries

    raw = await cluster.apps[0][STORE].xrange(keys(cluster).outbox(room))
    return [(fields["type"], json.loads(fields["data"])) for _, fields in decode_entries(raw)]
