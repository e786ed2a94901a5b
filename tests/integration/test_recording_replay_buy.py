"""Buying from a replay: a normal order at list price through the reservation and outbox,
under concurrent load (exact counts, no oversell, idempotent retries)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.replays.models import new_replay_id
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import RECORDINGS
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import outbox, product

pytestmark = pytest.mark.timeout(60)
STOCK = 5


@pytest.fixture
async def shop(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"recording": {"replay_stock": STOCK, "replay_per_user_limit": 2}}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def replay_showing(cluster: Cluster, room: str, item: dict[str, Any]) -> str:
    """A finished replay of ``room`` whose timeline pinned ``item`` (made through the index,
    as the recorder does when a publication ends)."""
    index = cluster.apps[0][RECORDINGS].index
    replay_id = new_replay_id(room)
    started = int(time.time() * 1000) - 60_000
    await index.create(
        replay_id,
        room,
        anchor="alice",
        node_url=cluster.urls[0],
        started_at=started,
        video_codec="h264",
        fmt="hls",
    )
    await index.append_timeline(
        room, replay_id, [{"at": started + 5_000, "type": "product_pinned", "product": item}]
    )
    replay = await index.get(replay_id)
    assert replay is not None
    await index.finish(
        replay, started_at=started, ended_at=started + 60_000, duration_s=60.0, stopped=None
    )
    return replay_id


async def buy(
    cluster: Cluster, replay: str, user: str, body: dict[str, Any], node: int = 0
) -> tuple[int, Any]:
    return await cluster.api(
        "POST", f"/api/replays/{replay}/orders", cluster.token("viewer", user), body, node=node
    )


async def test_concurrent_replay_buys_never_oversell_and_retries_get_the_same_order(
    shop: Cluster,
) -> None:
    room = await shop.room()
    item = await product(shop, room)
    replay = await replay_showing(shop, room, item)

    buyers = [f"u{n}" for n in range(20)]
    answers = await asyncio.gather(
        *(
            buy(shop, replay, user, {"product_id": item["id"], "key": f"k-{user}"}, node=n % 2)
            for n, user in enumerate(buyers)
        )
    )
    reserved = [(user, a) for user, (s, a) in zip(buyers, answers, strict=True) if s == 201]
    refused = [a for s, a in answers if s == 200]
    assert len(reserved) == STOCK
    assert len(refused) == len(buyers) - STOCK
    assert {a["reason"] for a in refused} == {"sold_out"}

    # A retry with the same key is the same order, on either node.
    user, first = reserved[0]
    again = await buy(shop, replay, user, {"product_id": item["id"], "key": f"k-{user}"}, 1)
    assert again == (200, first)

    events = [e for e in await outbox(shop, room) if e["type"] == "order.created"]
    assert len(events) == STOCK
    data = [json.loads(e["data"]) for e in events]
    assert {d["source"] for d in data} == {"replay"}
    assert {d["replay"] for d in data} == {replay}
    assert {d["unit_price_cents"] for d in data} == {item["price_cents"]}  # the list price

    # A normal order: the backend pays it; a cancel returns its unit to the replay stock.
    order_a, order_b = reserved[0][1]["order"], reserved[1][1]["order"]
    status, paid = await shop.api("POST", f"/api/orders/{order_a}/paid", shop.token("backend", "b"))
    assert status == 200, paid
    assert paid["status"] == "paid"
    status, cancelled = await shop.api(
        "POST", f"/api/orders/{order_b}/cancel", shop.token("viewer", reserved[1][0])
    )
    assert status == 200, cancelled
    status, late = await buy(shop, replay, "late", {"product_id": item["id"], "key": "k"})
    assert status == 201, late
    status, none_left = await buy(shop, replay, "later", {"product_id": item["id"], "key": "k"})
    assert none_left["reason"] == "sold_out"


async def test_a_user_is_held_to_the_per_user_limit_and_only_shown_products_sell(
    shop: Cluster,
) -> None:
    room = await shop.room()
    item = await product(shop, room)
    other = await product(shop, room, sku="TEA-2")
    replay = await replay_showing(shop, room, item)
    for n in range(2):
        status, _ = await buy(shop, replay, "bob", {"product_id": item["id"], "key": f"k{n}"})
        assert status == 201
    status, answer = await buy(shop, replay, "bob", {"product_id": item["id"], "key": "k9"})
    assert (status, answer["reason"]) == (200, "limit_reached")
    status, answer = await buy(shop, replay, "bob", {"product_id": other["id"], "key": "x"})
    assert (status, answer["error"]["code"]) == (404, "product_not_found")
