"""A token with a ``room`` claim acts in that room only, on every HTTP route and for every
role (CONTRACT "Tokens and rooms"): 403 ``not_your_room`` anywhere else."""

from __future__ import annotations

from typing import Any

import pytest

from livecommerce.auth import Role
from livecommerce.web.access import RoomFrom
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import room_with_sale
from tests.security.http_site import routes, site

__all__ = ["site"]

OTHER_ROOM = "other-room"
# Routes whose handler finds the room itself (an order's room) and checks it; each is
# proven below. The channel is the channel's (tests of the WebSocket surface).
CHECKED_BY_HANDLER = {
    "POST /api/orders/{order}/paid",
    "POST /api/orders/{order}/cancel",
    "GET /api/orders/{order}",
    "HEAD /api/orders/{order}",
    # A giveaway's id names its room (proven in test_formats_routes.py).
    "POST /api/giveaways/{giveaway}/end",
    "GET /ws/rooms/{room}",
    "HEAD /ws/rooms/{room}",
    # A replay's room (its id names it); proven in tests/security/test_replay_routes.py.
    "DELETE /api/replays/{replay}",
    "POST /api/replays/{replay}/orders",
}


async def call(site: Cluster, method: str, path: str, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with site.http.request(method, site.urls[0] + path, headers=headers) as response:
        if method == "HEAD":
            return response.status, None
        assert response.content_type == "application/json", (method, path, response.status)
        return response.status, await response.json()


def refused_as_not_your_room(status: int, body: Any, method: str) -> bool:
    if method == "HEAD":
        return status == 403
    return status == 403 and body["error"]["code"] == "not_your_room"


async def test_every_room_route_refuses_every_role_with_a_token_for_another_room(
    site: Cluster,
) -> None:
    room = await site.room(anchor="alice")
    walked: list[str] = []
    for route in routes(site.apps[0]):
        if "room" not in route.parameters:
            continue
        if route.room_from is RoomFrom.handler:
            assert str(route) in CHECKED_BY_HANDLER, f"{route} opts out of the room check"
            continue
        for role in sorted(route.roles):
            # The room's own anchor, scoped elsewhere: the strongest case for an anchor.
            user = "alice" if role is Role.anchor else f"{role.value}-1"
            scoped = site.token(role, user, room=OTHER_ROOM)
            status, body = await call(site, route.method, route.path(room=room), scoped)
            assert refused_as_not_your_room(status, body, route.method), (str(route), role, body)
        walked.append(str(route))
    assert len(walked) >= 25, walked  # every REST, WHIP/WHEP and page route of a room


async def test_every_route_of_no_room_that_needs_a_token_refuses_a_room_token(
    site: Cluster,
) -> None:
    walked: list[str] = []
    for route in routes(site.apps[0]):
        if "room" in route.parameters or route.roles == frozenset(Role):
            continue  # rooms above; anyone's routes take any valid token
        if route.room_from is RoomFrom.handler:
            assert str(route) in CHECKED_BY_HANDLER, f"{route} opts out of the room check"
            continue
        for role in sorted(route.roles):
            status, body = await call(
                site, route.method, route.path(), site.token(role, "u1", room=OTHER_ROOM)
            )
            assert refused_as_not_your_room(status, body, route.method), (str(route), role, body)
        walked.append(str(route))
    assert "POST /api/rooms" in walked
    assert "GET /api/stats/dab" in walked
    assert "GET /api/nodes" in walked


async def test_a_moderator_scoped_to_one_room_moderates_it_and_nothing_else(
    site: Cluster,
) -> None:
    mine, other = await site.room(anchor="alice"), await site.room(anchor="bob")
    mia = site.token("moderator", "mia", room=mine)
    actions: list[tuple[str, str, Any]] = [
        ("POST", "moderation/ban", {"user": "troll"}),
        ("POST", "moderation/mute-room", {}),
        ("POST", "moderation/slow-mode", {"interval_s": 5}),
        ("GET", "moderation/log", None),
        ("GET", "stats", None),
        ("DELETE", "messages/1700000000000-0", None),
        ("POST", "end", {}),
    ]
    for method, tail, body in actions:
        status, answer = await site.api(method, f"/api/rooms/{other}/{tail}", mia, body)
        assert (status, answer["error"]["code"]) == (403, "not_your_room"), (tail, answer)
    for method, tail, body in actions[:5]:
        status, answer = await site.api(method, f"/api/rooms/{mine}/{tail}", mia, body)
        assert status == 200, (tail, answer)
    _, state = await site.api("GET", f"/api/rooms/{other}", None)
    assert state["status"] == "scheduled"


@pytest.mark.parametrize("role", ["anchor", "moderator", "admin"])
async def test_staff_scoped_to_another_room_cannot_stop_a_sale_or_read_stats(
    site: Cluster, role: str
) -> None:
    room, open_sale = await room_with_sale(site)
    scoped = site.token(role, "alice" if role == "anchor" else "staff", room=OTHER_ROOM)
    status, answer = await site.api("GET", f"/api/rooms/{room}/stats", scoped)
    assert (status, answer["error"]["code"]) == (403, "not_your_room")
    if role != "admin":
        stop = f"/api/rooms/{room}/sales/{open_sale['id']}/stop"
        status, answer = await site.api("POST", stop, scoped)
        assert (status, answer["error"]["code"]) == (403, "not_your_room")
    _, state = await site.api("GET", f"/api/rooms/{room}/sales/{open_sale['id']}")
    assert state["status"] != "ended"


async def test_the_rooms_anchor_scoped_to_another_room_cannot_sell_in_it(site: Cluster) -> None:
    room, open_sale = await room_with_sale(site)
    scoped = site.token("anchor", "alice", room=OTHER_ROOM)
    product = {"sku": "X", "title": "X", "price_cents": 1, "currency": "EUR"}
    for path, body in [
        (f"/api/rooms/{room}/products", product),
        (f"/api/rooms/{room}/pin", {"product_id": open_sale["product_id"]}),
        (f"/api/rooms/{room}/sales", {"product_id": open_sale["product_id"]}),
    ]:
        status, answer = await site.api("POST", path, scoped, body)
        assert (status, answer["error"]["code"]) == (403, "not_your_room"), path
    own = site.token("anchor", "alice", room=room)
    status, _ = await site.api("POST", f"/api/rooms/{room}/products", own, product)
    assert status == 201


async def test_a_room_token_reads_public_room_state_only_of_its_room(site: Cluster) -> None:
    room = await site.room()
    viewer = site.token("viewer", "vic", room=OTHER_ROOM)
    status, answer = await site.api("GET", f"/api/rooms/{room}", viewer)
    assert (status, answer["error"]["code"]) == (403, "not_your_room")
    assert (await site.api("GET", f"/api/rooms/{room}", None))[0] == 200
    assert (await site.api("GET", "/api/rooms", viewer))[0] == 200
    own = site.token("viewer", "vic", room=room)
    assert (await site.api("GET", f"/api/rooms/{room}", own))[0] == 200


async def buy(site: Cluster, room: str, sale_id: str, user: str) -> str:
    buyer = await site.join(room, user)
    try:
        await buyer.send({"type": "buy", "sale": sale_id, "qty": 1, "key": "k1"})
        result = await buyer.wait_for("buy_result")
        assert result["ok"] is True, result
        return str(result["order"])
    finally:
        await buyer.close()


@pytest.mark.parametrize(
    ("role", "user", "method", "tail"),
    [
        ("backend", "shop", "POST", "/paid"),
        ("backend", "shop", "POST", "/cancel"),
        ("backend", "shop", "GET", ""),
        ("admin", "root", "GET", ""),
        ("viewer", "bea", "GET", ""),
        ("viewer", "bea", "POST", "/cancel"),
    ],
)
async def test_an_order_is_reached_only_with_a_token_for_its_room(
    site: Cluster, role: str, user: str, method: str, tail: str
) -> None:
    room, open_sale = await room_with_sale(site)
    order = await buy(site, room, open_sale["id"], "bea")
    path = f"/api/orders/{order}{tail}"
    status, answer = await site.api(method, path, site.token(role, user, room=OTHER_ROOM))
    assert (status, answer["error"]["code"]) == (403, "not_your_room")
    _, state = await site.api("GET", f"/api/orders/{order}", site.token("admin", "root"))
    assert state["status"] == "reserved"
    status, answer = await site.api(method, path, site.token(role, user, room=room))
    assert status == 200, answer


async def test_a_room_token_for_an_order_that_does_not_exist_is_told_404(site: Cluster) -> None:
    scoped = site.token("backend", "shop", room=OTHER_ROOM)
    status, answer = await site.api("POST", "/api/orders/no-such-order/paid", scoped)
    assert (status, answer["error"]["code"]) == (404, "order_not_found")
