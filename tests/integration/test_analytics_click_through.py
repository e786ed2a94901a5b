"""Click-through is the share of the visitors shown a room's card who entered it: viewers
who come by a direct link are counted apart, so the rate never exceeds 1, in the JSON, the
conversion list and the CSV alike; exact while both steps are exact sets, estimated from
the HyperLogLogs (written straight to the store here) beyond."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.integration.cluster import Cluster

pytestmark = pytest.mark.timeout(60)


async def report_of(cluster: Cluster, room: str) -> dict[str, Any]:
    status, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("anchor", "alice")
    )
    assert status == 200, report
    return report


async def test_direct_entries_are_not_clicks_and_the_rate_stays_a_share(cluster: Cluster) -> None:
    # The acceptance run's 133 %: 3 visitors shown the card, 2 of them entered, and 2
    # more entered by a link.
    room = await cluster.room()
    for user in ("u0", "u1", "u2"):
        status, _ = await cluster.api(
            "POST", f"/api/rooms/{room}/impressions", cluster.token("viewer", user)
        )
        assert status == 200
    viewers = [
        await cluster.join(room, user, node=n % 2)
        for n, user in enumerate(("u0", "u1", "d0", "d1"))
    ]

    report = await report_of(cluster, room)

    assert report["funnel"]["impressions"]["users"] == 3
    assert report["funnel"]["entries"]["users"] == 4
    assert report["click_through"] == {
        "impressions": 3,
        "entries": 4,
        "from_impressions": 2,
        "direct": 2,
        "rate": 0.6667,
        "exact": True,
    }
    assert report["conversion"][0] == {"from": "impressions", "to": "entries", "rate": 0.6667}
    async with cluster.http.get(
        f"{cluster.urls[1]}/api/rooms/{room}/analytics.csv",
        headers={"Authorization": f"Bearer {cluster.token('anchor', 'alice')}"},
    ) as response:
        rows = list(csv.reader(io.StringIO(await response.text())))
    summary = {r[3]: r[4] for r in rows if r[0] == "summary"}
    assert (summary["click_through"], summary["entries_from_impressions"]) == ("0.6667", "2")
    assert summary["direct_entries"] == "2"
    for viewer in viewers:
        await viewer.close()


async def test_with_no_impressions_every_entry_is_direct(cluster: Cluster) -> None:
    room = await cluster.room()
    viewer = await cluster.join(room, "d0")

    through = (await report_of(cluster, room))["click_through"]

    assert (through["from_impressions"], through["direct"], through["rate"]) == (0, 1, 0.0)
    await viewer.close()


async def test_beyond_the_exact_sets_the_overlap_is_estimated_and_never_above_one(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    store = cluster.apps[0][STORE]
    shown = [f"s{n}" for n in range(20_000)]
    entered = shown[:8_000] + [f"d{n}" for n in range(12_000)]  # 8,000 clicked, 12,000 direct
    for step, visitors in (("impressions", shown), ("entries", entered)):
        for start in range(0, len(visitors), 1000):
            await store.pfadd(keys.analytics_hll(room, step), *visitors[start : start + 1000])

    through = (await report_of(cluster, room))["click_through"]

    assert through["exact"] is False
    # |A| + |B| - |A ∪ B| from three estimates each within 3 × 0.81 % (99.7 %): the
    # overlap's error is a few percent of the union (28,000).
    assert abs(through["from_impressions"] - 8_000) <= 0.03 * 28_000
    assert through["from_impressions"] + through["direct"] == through["entries"]
    assert 0 <= through["rate"] <= 1

    # One step exact, the other a HyperLogLog: the smaller count, an upper bound.
    await store.delete(keys.analytics_hll(room, "entries"))
    await store.sadd(keys.analytics_users(room, "entries"), "s0", "s1", "d0")
    through = (await report_of(cluster, room))["click_through"]
    assert (through["from_impressions"], through["direct"], through["exact"]) == (3, 0, False)
