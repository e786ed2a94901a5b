"""Who reads a room's analytics: its anchor, moderators and admins — not viewers, not
another room's anchor, not a token limited to another room, not anonymous callers — also
once the room is deleted and only its frozen report is left; daily active buyers over a
range: admins only, with the range checked."""

from __future__ import annotations

import datetime
import time

import pytest

from livecommerce.rooms.retention import RoomRetention
from livecommerce.store.replies_rooms import RoomDelete
from livecommerce.web.state import STORE_CONTEXT
from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import room_with_sale

PATHS = ("analytics", "analytics.csv")


cluster = cluster_with()


async def status_of(cluster: Cluster, path: str, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with cluster.http.get(cluster.urls[0] + path, headers=headers) as response:
        if response.status == 200:
            return 200, ""
        return response.status, (await response.json())["error"]["code"]


@pytest.mark.parametrize("path", PATHS)
async def test_only_the_rooms_anchor_and_staff_read_its_analytics(
    cluster: Cluster, path: str
) -> None:
    room, other = await cluster.room(anchor="alice"), await cluster.room(anchor="bob")
    url = f"/api/rooms/{room}/{path}"
    token = cluster.token

    assert await status_of(cluster, url, token("anchor", "alice")) == (200, "")
    assert await status_of(cluster, url, token("anchor", "alice", room=room)) == (200, "")
    assert await status_of(cluster, url, token("moderator", "mia")) == (200, "")
    assert await status_of(cluster, url, token("admin", "root")) == (200, "")
    assert await status_of(cluster, url, None) == (401, "unauthorized")
    assert await status_of(cluster, url, "garbage") == (401, "token_invalid")
    assert await status_of(cluster, url, token("viewer", "alice")) == (403, "forbidden_role")
    assert await status_of(cluster, url, token("backend", "shop")) == (403, "forbidden_role")
    assert await status_of(cluster, url, token("anchor", "bob")) == (403, "not_your_room")
    scoped = token("moderator", "mia", room=other)
    assert await status_of(cluster, url, scoped) == (403, "not_your_room")
    missing = f"/api/rooms/nosuchroom/{path}"
    assert await status_of(cluster, missing, token("admin", "root")) == (404, "room_not_found")


@pytest.mark.parametrize("path", PATHS)
async def test_the_same_callers_and_only_they_read_a_deleted_rooms_frozen_report(
    cluster: Cluster, path: str
) -> None:
    room, other = await cluster.room(anchor="alice"), await cluster.room(anchor="bob")
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", cluster.token("anchor", "alice")))[
        0
    ] == 200
    sweep = RoomRetention(store=cluster.apps[0][STORE_CONTEXT], retention_days=1, interval_s=3600)
    assert await sweep.delete(room, int(time.time() * 1000) + 1000) is RoomDelete.deleted
    assert (await cluster.api("GET", f"/api/rooms/{room}"))[0] == 404
    url = f"/api/rooms/{room}/{path}"
    token = cluster.token

    assert await status_of(cluster, url, token("anchor", "alice")) == (200, "")
    assert await status_of(cluster, url, token("anchor", "alice", room=room)) == (200, "")
    assert await status_of(cluster, url, token("moderator", "mia")) == (200, "")
    assert await status_of(cluster, url, token("admin", "root")) == (200, "")
    assert await status_of(cluster, url, None) == (401, "unauthorized")
    assert await status_of(cluster, url, token("viewer", "alice")) == (403, "forbidden_role")
    assert await status_of(cluster, url, token("backend", "shop")) == (403, "forbidden_role")
    assert await status_of(cluster, url, token("anchor", "bob")) == (403, "not_your_room")
    assert await status_of(cluster, url, token("anchor", "alice", room=other)) == (
        403,
        "not_your_room",
    )
    scoped = token("moderator", "mia", room=other)
    assert await status_of(cluster, url, scoped) == (403, "not_your_room")
    # A room that never was, or whose report is gone, is not found, whoever asks.
    for missing in ("never0here", "ghost-room"):
        for caller in (token("admin", "root"), token("anchor", "alice")):
            assert await status_of(cluster, f"/api/rooms/{missing}/{path}", caller) == (
                404,
                "room_not_found",
            )


async def test_daily_active_buyers_over_a_range_is_one_row_per_day(cluster: Cluster) -> None:
    room, opened = await room_with_sale(cluster, quantity=5, per_user_limit=1)
    for user in ("a", "b"):
        buyer = await cluster.join(room, user)
        await buyer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "k"})
        assert (await buyer.wait_for("buy_result"))["ok"] is True
        await buyer.close()
    today = datetime.datetime.now(datetime.UTC).date()
    first = today - datetime.timedelta(days=2)

    status, body = await cluster.api(
        "GET", f"/api/stats/dab?from={first}&to={today}", cluster.token("admin", "root")
    )

    assert status == 200, body
    assert body["from"] == first.isoformat()
    assert body["to"] == today.isoformat()
    assert body["days"] == [
        {"date": (first + datetime.timedelta(days=n)).isoformat(), "daily_active_buyers": count}
        for n, count in enumerate([0, 0, 2])
    ]
    one_day = await cluster.api("GET", f"/api/stats/dab?to={today}", cluster.token("admin", "r"))
    assert one_day[1]["days"] == [{"date": today.isoformat(), "daily_active_buyers": 2}]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("from=2026-01-01&to=2026-13-01", 400, "invalid_parameter"),
        ("from=2026-02-30", 400, "invalid_parameter"),
        ("from=yesterday", 400, "invalid_parameter"),
        ("from=２０２６-01-01", 400, "invalid_parameter"),
        ("from=2026-03-02&to=2026-03-01", 400, "invalid_parameter"),
        ("from=2020-01-01&to=2026-01-01", 400, "invalid_parameter"),
    ],
)
async def test_a_bad_range_is_refused(cluster: Cluster, query: str, status: int, code: str) -> None:
    answer = await cluster.api("GET", f"/api/stats/dab?{query}", cluster.token("admin", "root"))

    assert answer[0] == status
    assert answer[1]["error"]["code"] == code


async def test_only_admins_read_daily_active_buyers_over_a_range(cluster: Cluster) -> None:
    path = "/api/stats/dab?from=2026-01-01&to=2026-01-02"
    assert await status_of(cluster, path, cluster.token("anchor", "alice")) == (
        403,
        "forbidden_role",
    )
    assert await status_of(cluster, path, None) == (401, "unauthorized")
