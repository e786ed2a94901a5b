"""A buyer who holds units of a sale is one of its attempts' visitors already: the
reserve script skips counting them again (one command less per buy), and the funnel stays
exact — every attempt in the totals, every user once — on two nodes, with the attempts'
visitors exact or in the HyperLogLog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product, sale


@pytest.fixture(params=[1000, 1], ids=["exact", "hyperloglog"])
async def cluster(
    request: pytest.FixtureRequest,
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"analytics": {"watch_interval_s": 0.2, "exact_users_max": request.param}}
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


async def test_a_holders_buys_and_refusals_are_attempts_and_the_holder_one_visitor(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    opened = await sale(cluster, room, item["id"], quantity=3, per_user_limit=2)
    a, b, c = [await cluster.join(room, user, node=n % 2) for n, user in enumerate("abc")]
    # a reserves twice (the second as a holder), then is refused at the limit as a holder;
    # b takes the last unit; c, holding nothing, is refused: sold out.
    plan = [(a, "x", True), (a, "y", True), (a, "z", False), (b, "w", True), (c, "v", False)]
    for client, key, reserves in plan:
        mark = len(client.frames)
        await client.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": key})
        answer = await client.wait_for("buy_result", after=mark)
        assert answer["ok"] is reserves, answer

    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("admin", "root"), node=1
    )

    funnel = report["funnel"]
    assert (funnel["buy_attempts"]["total"], funnel["buy_attempts"]["users"]) == (5, 3)
    assert (funnel["reserved"]["total"], funnel["reserved"]["users"]) == (3, 2)
    for client in (a, b, c):
        await client.close()
