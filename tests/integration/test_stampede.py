"""The money path under a stampede: 2,000 buyers on two nodes for 500 units."""

from __future__ import annotations

import asyncio
import json
import resource
from collections import Counter

import aiohttp
import pytest

from livecommerce.web.state import SALES
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import outbox, room_with_sale

BUYERS = 2000
STOCK = 500


@pytest.fixture(autouse=True)
def enough_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 16_384) if hard != resource.RLIM_INFINITY else 16_384
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def connect_buyer(
    session: aiohttp.ClientSession, cluster: Cluster, room: str, n: int, gate: asyncio.Semaphore
) -> ChannelClient:
    async with gate:
        client = await ChannelClient.connect(
            session,
            cluster.urls[n % 2],
            room,
            cluster.token("viewer", f"buyer{n}"),
            "msgpack" if n % 3 else "json",
        )
        await client.wait_for("welcome", timeout_s=60)
        return client


@pytest.mark.timeout(300)
async def test_exactly_the_stock_is_reserved_and_every_buyer_gets_one_answer(
    cluster: Cluster,
) -> None:
    await stampede(cluster, BUYERS, STOCK)


async def stampede(cluster: Cluster, buyers_count: int, stock: int) -> None:
    """``buyers_count`` buyers on both nodes press buy at once (each twice, same key)
    for ``stock`` units: exactly the stock is reserved, each buyer gets one answer."""
    room, flash = await room_with_sale(
        cluster, quantity=stock, per_user_limit=1, reservation_ttl_s=600
    )
    gate = asyncio.Semaphore(100)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        buyers = await asyncio.gather(
            *(connect_buyer(session, cluster, room, n, gate) for n in range(buyers_count))
        )

        # Everyone presses buy at once; every buyer sends the same key twice (a retry).
        frames = [
            client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": f"press-{n}"})
            for n, client in enumerate(buyers)
            for _ in range(2)
        ]
        await asyncio.gather(*frames)

        async def two_answers(client: ChannelClient) -> list[dict[str, object]]:
            first = await client.wait_for("buy_result", timeout_s=60)
            after = next(i for i, f in enumerate(client.frames) if f is first) + 1
            await client.wait_for("buy_result", after=after, timeout_s=60)
            await client.sync(timeout_s=60)  # a third answer, if any, comes before the pong
            return client.of_type("buy_result")

        answers = await asyncio.gather(*(two_answers(client) for client in buyers))
        for client in buyers:
            await client.close()

    assert all(len(pair) == 2 for pair in answers), (
        "a buyer got more or fewer than one answer per press"
    )
    assert all(pair[0] == pair[1] for pair in answers), "a retried key got a different answer"
    firsts = [pair[0] for pair in answers]
    winners = [a for a in firsts if a["ok"] is True]
    assert len(winners) == stock
    assert len({a["order"] for a in winners}) == stock
    reasons = Counter(a.get("reason") for a in firsts if a["ok"] is False)
    assert set(reasons) <= {"sold_out"}
    assert sum(reasons.values()) == buyers_count - stock

    sale_state = await cluster.apps[0][SALES].get(room, flash["id"])
    assert (sale_state.stock, sale_state.reserved, sale_state.sold) == (0, stock, 0)
    created = [e for e in await outbox(cluster, room) if e["type"] == "order.created"]
    assert len(created) == stock
    assert len({e["id"] for e in created}) == stock
    assert {json.loads(e["data"])["id"] for e in created} == {a["order"] for a in winners}
