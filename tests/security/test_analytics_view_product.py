"""``view_product`` frames come from anyone in the room, anonymous too, so they are
checked at the edge: a missing, non-text, over-long or unprintable product id is a bad
frame; a product of another room is ``product_not_found``; past its budget
(``analytics.views_burst``) a socket gets ``rate_limited``. None of these is counted,
and the sender's socket (and every other) stays open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import product

BURST = 4


cluster = cluster_with({"analytics": {"views_burst": BURST, "views_per_s": 0.01}})


async def views(cluster: Cluster, room: str) -> dict[str, Any]:
    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("admin", "root")
    )
    counted: dict[str, Any] = report["funnel"]["product_views"]
    return counted


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "view_product"}, "missing_field"),
        ({"type": "view_product", "product": 7}, "invalid_field"),
        ({"type": "view_product", "product": ["p_1"]}, "invalid_field"),
        ({"type": "view_product", "product": ""}, "invalid_field"),
        ({"type": "view_product", "product": "p" * 65}, "invalid_field"),
        ({"type": "view_product", "product": "p 1\n"}, "invalid_field"),
        ({"type": "view_product", "product": "p_nothere"}, "product_not_found"),
    ],
)
async def test_bad_product_views_get_an_error_frame_and_count_nothing(
    cluster: Cluster, frame: dict[str, Any], code: str
) -> None:
    room = await cluster.room()
    await product(cluster, room)
    viewer, neighbour = await cluster.join(room, "v", wire="json"), await cluster.join(room)

    await viewer.send(frame)
    error = await viewer.wait_for("error")

    assert error["code"] == code
    await viewer.sync()
    await neighbour.sync()
    assert viewer.close_code is None
    assert (await views(cluster, room))["total"] == 0
    await viewer.close()
    await neighbour.close()


async def test_a_product_of_another_room_is_not_found(cluster: Cluster) -> None:
    room, other = await cluster.room(), await cluster.room()
    elsewhere = await product(cluster, other)
    viewer = await cluster.join(room, "v")

    await viewer.send({"type": "view_product", "product": elsewhere["id"]})

    assert (await viewer.wait_for("error"))["code"] == "product_not_found"
    assert (await views(cluster, room))["total"] == 0
    assert (await views(cluster, other))["total"] == 0
    await viewer.close()


async def test_a_socket_past_its_budget_is_rate_limited_and_anonymous_views_count(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    anonymous = await cluster.join(room)

    for _ in range(BURST + 3):
        await anonymous.send({"type": "view_product", "product": item["id"]})
    await anonymous.sync()

    errors = anonymous.of_type("error")
    assert [e["code"] for e in errors] == ["rate_limited"] * 3
    assert anonymous.close_code is None
    assert await views(cluster, room) == {"total": BURST, "users": 1, "users_exact": True}
    # Another socket has its own budget.
    other = await cluster.join(room, "w", node=1)
    await other.send({"type": "view_product", "product": item["id"]})
    await other.sync()
    assert other.of_type("error") == []
    assert (await views(cluster, room))["users"] == 2
    await anonymous.close()
    await other.close()
