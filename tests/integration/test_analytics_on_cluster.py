"""The report's reads that take two keys (the click-through's ``SINTERCARD`` and
``PFCOUNT`` of two HyperLogLogs), the room stats' buyers (``SINTERCARD`` in a pipeline)
and the room's end with its sales (one script over the room's and its sales' keys) on a
3-master Valkey cluster: every key of a room shares its hash tag, so each is one slot."""

from __future__ import annotations

import pytest

from livecommerce.store.keys import Keys
from livecommerce.web.state import STORE
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale

pytestmark = pytest.mark.timeout(120)


async def test_the_two_key_reads_and_the_end_work_on_a_cluster(
    on_cluster: Cluster, key_prefix: str
) -> None:
    cluster = on_cluster
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    item = await product(cluster, room)
    opened = await sale(cluster, room, item["id"])
    for user in ("u0", "u1"):
        status, _ = await cluster.api(
            "POST", f"/api/rooms/{room}/impressions", cluster.token("viewer", user)
        )
        assert status == 200
    viewers = [await cluster.join(room, user, node=1) for user in ("u0", "d0")]
    await viewers[0].send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "k"})
    assert (await viewers[0].wait_for("buy_result"))["ok"] is True
    for viewer in viewers:
        await viewer.close()

    status, report = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    assert status == 200, report
    through = report["click_through"]
    assert (through["from_impressions"], through["direct"], through["exact"]) == (1, 1, True)
    _, stats = await cluster.api("GET", f"/api/rooms/{room}/stats", anchor)
    assert stats["buyers"] == 1

    keys, store = Keys(key_prefix), cluster.apps[0][STORE]
    for step in ("impressions", "entries"):
        await store.delete(keys.analytics_users(room, step))
        await store.pfadd(keys.analytics_hll(room, step), *(f"v{n}" for n in range(1500)))
    _, report = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    through = report["click_through"]
    assert through["exact"] is False
    assert abs(through["from_impressions"] - 1500) <= 0.05 * 1500

    status, ended = await cluster.api("POST", f"/api/rooms/{room}/end", anchor)
    assert status == 200, ended
    _, now = await cluster.api("GET", f"/api/rooms/{room}/sales/{opened['id']}")
    assert (now["status"], now["stopped_at"]) == ("ended", ended["ended_at"])
