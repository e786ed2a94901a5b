"""Unique visitors per funnel step: exact in a set up to ``analytics.exact_users_max``,
then a HyperLogLog whose count stays within three standard errors (0.81 % each) at
100,000 users. The users are written straight to the store through the counting script
(one pipeline per chunk), not through HTTP."""

from __future__ import annotations

from livecommerce.analytics.funnel import Step
from livecommerce.analytics.report import HLL_STANDARD_ERROR
from livecommerce.app import STORE_CONTEXT
from livecommerce.store.lua import ScriptCall
from livecommerce.store.replies_analytics import AnalyticsCountReply, CountOutcome
from livecommerce.web.state import SETTINGS
from tests.integration.cluster import Cluster, cluster_with

EXACT_MAX = 1000
CHUNK = 5000


cluster = cluster_with({"analytics": {"exact_users_max": EXACT_MAX}})


async def count_entries(cluster: Cluster, room: str, visitors: list[str]) -> None:
    store = cluster.apps[0][STORE_CONTEXT]
    keys = store.keys
    step = Step.entries.value
    script_keys = [
        keys.room(room),
        keys.products(room),
        keys.analytics(room),
        keys.analytics_users(room, step),
        keys.analytics_hll(room, step),
    ]
    for start in range(0, len(visitors), CHUNK):
        calls: list[ScriptCall] = [
            (script_keys, [step, visitor, "", EXACT_MAX])
            for visitor in visitors[start : start + CHUNK]
        ]
        replies = await store.scripts.call_many(AnalyticsCountReply, calls)
        assert {reply.outcome for reply in replies} == {CountOutcome.counted}


async def entries(cluster: Cluster, room: str) -> dict[str, int | bool]:
    status, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("admin", "root")
    )
    assert status == 200, report
    counts: dict[str, int | bool] = report["funnel"]["entries"]
    return counts


async def test_visitors_are_exact_up_to_the_limit_and_each_counted_once(cluster: Cluster) -> None:
    room = await cluster.room()
    visitors = [f"user-{n}" for n in range(EXACT_MAX)]

    await count_entries(cluster, room, visitors + visitors[:10])

    assert await entries(cluster, room) == {
        "total": EXACT_MAX + 10,
        "users": EXACT_MAX,
        "users_exact": True,
    }


async def test_a_hundred_thousand_visitors_are_counted_within_the_bound(cluster: Cluster) -> None:
    room = await cluster.room()
    users = 100_000
    visitors = [f"user-{n}" for n in range(users)]

    await count_entries(cluster, room, visitors)
    await count_entries(cluster, room, visitors[:1000])  # returning visitors

    counts = await entries(cluster, room)
    assert counts["total"] == users + 1000
    assert counts["users_exact"] is False
    assert abs(int(counts["users"]) - users) <= 3 * HLL_STANDARD_ERROR * users, counts
    store = cluster.apps[0][STORE_CONTEXT]
    keys = store.keys
    assert not await store.client.exists(keys.analytics_users(room, Step.entries.value))
    assert cluster.apps[0][SETTINGS].analytics.exact_users_max == EXACT_MAX
