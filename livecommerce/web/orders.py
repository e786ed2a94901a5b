"""Orders (payment callbacks, buyer cancellation) and statistics."""

from __future__ import annotations

import re
import time

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.commerce.models import Order
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import (
    RoomFrom,
    admits,
    caller,
    require_room_authority,
    require_room_scope,
)
from livecommerce.web.analytics import daily_active_buyers_range
from livecommerce.web.body import read_json_object
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import ORDERS, PRESENCE, ROOMS, STATS

# ASCII digits: \d would also take other scripts' digits.
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
BUYER_ROLES = (Role.viewer, Role.anchor, Role.moderator)


async def _order_in_reach(request: web.Request) -> Order | None:
    """The order when the caller's token is limited to a room, checked to be of that room
    (403 not_your_room otherwise); None for a token that reaches every room."""
    principal = caller(request)
    if principal.room is None:
        return None
    order = await request.app[ORDERS].get(request.match_info["order"])
    require_room_scope(principal, order.room)
    return order


@admits(Role.backend, room_from=RoomFrom.handler)
async def order_paid(request: web.Request) -> web.Response:
    """The trading backend confirms payment (idempotent)."""
    await _order_in_reach(request)
    await read_json_object(request, allow_empty=True)
    order = await request.app[ORDERS].settle(request.match_info["order"], "pay")
    return web.json_response(order.to_json())


@admits(Role.backend, *BUYER_ROLES, room_from=RoomFrom.handler)
async def order_cancel(request: web.Request) -> web.Response:
    """The backend, or the buyer, cancels a reservation; stock returns (idempotent)."""
    await _order_in_reach(request)
    await read_json_object(request, allow_empty=True)
    principal = caller(request)
    requester = "" if principal.role is Role.backend else principal.user
    order = await request.app[ORDERS].settle(request.match_info["order"], "cancel", requester)
    return web.json_response(order.to_json())


@admits(Role.backend, Role.admin, *BUYER_ROLES, room_from=RoomFrom.handler)
async def get_order(request: web.Request) -> web.Response:
    order = await _order_in_reach(request) or await request.app[ORDERS].get(
        request.match_info["order"]
    )
    principal = caller(request)
    if principal.role not in (Role.backend, Role.admin) and principal.user != order.user:
        raise ApiError(ErrorCode.not_your_order)
    return web.json_response(order.to_json())


@admits(Role.anchor, Role.moderator, Role.admin)
async def room_stats(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator, Role.admin)
    viewers = await request.app[PRESENCE].total(room.id)
    return web.json_response(await request.app[STATS].room(room.id, viewers))


@admits(Role.admin)
async def daily_active_buyers(request: web.Request) -> web.Response:
    if "from" in request.query or "to" in request.query:
        return await daily_active_buyers_range(request)
    day = request.query.get("date") or time.strftime("%Y-%m-%d", time.gmtime())
    if not DAY.fullmatch(day):
        raise ApiError(ErrorCode.invalid_parameter, "date must be YYYY-MM-DD.")
    try:
        time.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise ApiError(ErrorCode.invalid_parameter, f"{day} is not a calendar date.") from None
    buyers = await request.app[STATS].daily_active_buyers(day)
    return web.json_response({"date": day, "daily_active_buyers": buyers})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/orders/{order}/paid", order_paid)
    app.router.add_post("/api/orders/{order}/cancel", order_cancel)
    app.router.add_get("/api/orders/{order}", get_order)
    app.router.add_get("/api/rooms/{room}/stats", room_stats)
    app.router.add_get("/api/stats/dab", daily_active_buyers)
