"""A giveaway with 10,000 entrants entering through two nodes at once: each once, only the
eligible, and a draw anyone can check."""

from __future__ import annotations

import asyncio

import pytest

from livecommerce.commerce import draw
from livecommerce.web.formats_app import GIVEAWAYS
from livecommerce.web.state import STORE
from tests.integration.cluster import Cluster
from tests.integration.formats_helpers import giveaway, keys

ELIGIBLE = 10_000
USERS = 12_000  # every sixth user has not watched long enough


@pytest.mark.timeout(300)
async def test_10000_entrants_across_two_nodes(cluster: Cluster) -> None:
    room = await cluster.room()
    prize = await giveaway(cluster, room, winners=5, duration_s=600, eligibility={"watch_s": 30})
    users = [f"viewer{n}" for n in range(USERS)]
    watched = {user: (10 if n % 6 == 0 else 45) for n, user in enumerate(users)}
    await cluster.apps[0][STORE].hset(keys(cluster).room_watch(room), mapping=watched)
    eligible = {user for user, seconds in watched.items() if seconds >= 30}
    assert len(eligible) == ELIGIBLE
    services = [app[GIVEAWAYS] for app in cluster.apps]
    gate = asyncio.Semaphore(500)

    async def enter(user: str, node: int) -> str:
        async with gate:
            reply = await services[node].enter(room, prize["id"], user)
            return reply.outcome.value

    # Every user enters through both nodes at the same time.
    outcomes = await asyncio.gather(
        *(enter(user, node) for n, user in enumerate(users) for node in (n % 2, 1 - n % 2))
    )
    by_user = [outcomes[i : i + 2] for i in range(0, len(outcomes), 2)]
    for user, pair in zip(users, by_user, strict=True):
        if user in eligible:
            assert sorted(pair) == ["entered", "repeat"], (user, pair)
        else:
            assert pair == ["watch_time_short", "watch_time_short"], (user, pair)

    status, listed = await cluster.api("GET", f"/api/giveaways/{prize['id']}/entrants")
    assert status == 200
    assert listed["count"] == ELIGIBLE
    assert listed["entrants"] == sorted(eligible)
    status, ended = await cluster.api(
        "POST", f"/api/giveaways/{prize['id']}/end", cluster.token("anchor", "alice")
    )
    assert status == 200
    assert set(ended["winners"]) <= eligible
    assert len(set(ended["winners"])) == 5
    assert (
        draw.verify(ended["seed"], prize["commitment"], listed["entrants"], ended["winners"]) == []
    )
