"""The impression route is open to anyone, so it is defended at the edge: each client
address has a budget (``analytics.impressions_burst`` at once, then
``impressions_per_s``); a room that does not exist or has ended counts nothing; a bad room
id, a body that is not ``{}`` or too big, and a token for another room are refused with
the catalogue's errors — and nothing is counted for any of them."""

from __future__ import annotations

import io

import pytest

from tests.integration.cluster import Cluster, cluster_with

BURST = 5


cluster = cluster_with({"analytics": {"impressions_burst": BURST, "impressions_per_s": 0.01}})


async def impressions(cluster: Cluster, room: str) -> int:
    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("admin", "root")
    )
    total: int = report["funnel"]["impressions"]["total"]
    return total


async def test_an_address_past_its_budget_gets_429_and_counts_nothing(cluster: Cluster) -> None:
    room = await cluster.room()
    for _ in range(BURST):
        assert (await cluster.api("POST", f"/api/rooms/{room}/impressions"))[0] == 200

    async with cluster.http.post(f"{cluster.urls[0]}/api/rooms/{room}/impressions") as response:
        body = await response.json()
        assert response.status == 429
        assert body["error"]["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) >= 1
    # A token does not buy a bigger budget: the limit is the address's.
    refused = await cluster.api(
        "POST", f"/api/rooms/{room}/impressions", cluster.token("viewer", "v")
    )
    assert refused[0] == 429
    # Another node has its own budget (per node, as every per-address limit).
    assert (await cluster.api("POST", f"/api/rooms/{room}/impressions", node=1))[0] == 200
    assert await impressions(cluster, room) == BURST + 1


async def test_anonymous_impressions_count_one_visitor_per_address(cluster: Cluster) -> None:
    room = await cluster.room()
    for _ in range(3):
        await cluster.api("POST", f"/api/rooms/{room}/impressions")

    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("admin", "root")
    )

    assert report["funnel"]["impressions"] == {"total": 3, "users": 1, "users_exact": True}


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/rooms/nosuchroom/impressions", 404, "room_not_found"),
        ("/api/rooms/bad%20id/impressions", 404, "room_not_found"),
        ("/api/rooms/" + "x" * 300 + "/impressions", 404, "room_not_found"),
        # Braces (a hash tag) never reach the handler: no route matches.
        ("/api/rooms/%7Br%3Ax%7D/impressions", 404, "not_found"),
    ],
)
async def test_an_unknown_or_malformed_room_is_404(
    cluster: Cluster, path: str, status: int, code: str
) -> None:
    async with cluster.http.post(cluster.urls[0] + path) as response:
        assert response.status == status
        assert (await response.json())["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"not json", "application/json", 400, "invalid_json"),
        (b"[1, 2]", "application/json", 400, "invalid_body"),
        (b'{"room": "other"}', "application/json", 400, "unknown_field"),
        (b"{}", "text/plain", 415, "unsupported_media_type"),
        (b'{"a": "' + b"x" * 2_000_000 + b'"}', "application/json", 413, "body_too_large"),
    ],
)
async def test_garbage_bodies_are_refused_and_not_counted(
    cluster: Cluster, body: bytes, content_type: str, status: int, code: str
) -> None:
    room = await cluster.room()
    async with cluster.http.post(
        f"{cluster.urls[0]}/api/rooms/{room}/impressions",
        data=io.BytesIO(body),
        headers={"Content-Type": content_type},
    ) as response:
        assert response.status == status
        assert (await response.json())["error"]["code"] == code

    assert await impressions(cluster, room) == 0


async def test_an_ended_room_counts_nothing(cluster: Cluster) -> None:
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200

    status, body = await cluster.api("POST", f"/api/rooms/{room}/impressions", node=1)

    assert status == 409
    assert body["error"]["code"] == "room_ended"
    assert await impressions(cluster, room) == 0


async def test_a_token_for_another_room_is_refused(cluster: Cluster) -> None:
    room, other = await cluster.room(), await cluster.room()

    status, body = await cluster.api(
        "POST", f"/api/rooms/{room}/impressions", cluster.token("viewer", "v", room=other)
    )

    assert status == 403
    assert body["error"]["code"] == "not_your_room"
    assert await impressions(cluster, room) == 0
