"""Rooms API: create, list, get, end."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from livecommerce.auth import Role, valid_identifier
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.rooms.discovery import RankedRoom
from livecommerce.rooms.models import Room, RoomStatus
from livecommerce.web.access import admits, admits_anyone, caller, require_room_authority
from livecommerce.web.body import read_json_object, reject_unknown, text_field, web_url_field
from livecommerce.web.formats_app import end_running_formats
from livecommerce.web.query import int_param
from livecommerce.web.state import (
    ANALYTICS,
    CATALOG,
    DISCOVERY,
    PRESENCE,
    RECORDINGS,
    ROOMS,
    SALES,
    SETTINGS,
)

MAX_LIST_LIMIT = 200
# Long enough for signed CDN image URLs, short enough to keep room hashes small.
MAX_COVER_URL_CHARS = 2048


def room_id_of(request: web.Request) -> str:
    room_id = request.match_info["room"]
    if not valid_identifier(room_id):
        raise ApiError(ErrorCode.room_not_found, f"No room with id {room_id!r}.")
    return room_id


@admits(Role.anchor)
async def create_room(request: web.Request) -> web.Response:
    """``{title, description?, cover_url?}`` → 201 room; the caller becomes its anchor."""
    limits = request.app[SETTINGS].rooms
    body = await read_json_object(request)
    reject_unknown(body, {"title", "description", "cover_url"})
    title = text_field(body, "title", max_chars=limits.max_title_chars, required=True)
    description = text_field(
        body, "description", max_chars=limits.max_description_chars, required=False
    )
    cover_url = web_url_field(body, "cover_url", max_chars=MAX_COVER_URL_CHARS)
    room = await request.app[ROOMS].create(caller(request).user, title, description, cover_url)
    return web.json_response(
        await _room_view(request, room), status=201, headers={"Location": f"/api/rooms/{room.id}"}
    )


def _status_param(request: web.Request) -> RoomStatus | None:
    raw = request.query.get("status")
    if raw is None or raw == "":
        return None
    try:
        return RoomStatus(raw)
    except ValueError:
        choices = ", ".join(s.value for s in RoomStatus)
        raise ApiError(
            ErrorCode.invalid_parameter, f"status must be one of {choices}, not {raw!r}."
        ) from None


def _limit_param(request: web.Request) -> int:
    default = min(request.app[SETTINGS].rooms.list_limit, MAX_LIST_LIMIT)
    return int_param(request, "limit", 1, MAX_LIST_LIMIT, default)


@admits_anyone
async def list_rooms(request: web.Request) -> web.Response:
    """Live rooms ranked by discovery, then the rest; ``?status=`` filters, ``?limit=`` caps."""
    status, limit = _status_param(request), _limit_param(request)
    views: list[dict[str, Any]] = []
    if status in (None, RoomStatus.live):
        views = [_ranked_view(request, ranked) for ranked in await _ranked_live(request)]
        views = views[:limit]
    if status is not RoomStatus.live:
        seen = {view["id"] for view in views}
        rest = await request.app[ROOMS].others(status, limit - len(views), seen)
        viewers = await request.app[PRESENCE].totals([room.id for room in rest])
        views += [
            {**room.to_json(), "viewers": count} for room, count in zip(rest, viewers, strict=True)
        ]
    return web.json_response({"rooms": views})


async def _ranked_live(request: web.Request) -> list[RankedRoom]:
    """Up to ``discovery.max_ranked_rooms`` live rooms, most engaging per viewer first."""
    live = await request.app[ROOMS].live(request.app[SETTINGS].discovery.max_ranked_rooms)
    viewers = await request.app[PRESENCE].totals([room.id for room in live])
    return await request.app[DISCOVERY].rank(live, viewers)


def _ranked_view(request: web.Request, ranked: RankedRoom) -> dict[str, Any]:
    return {
        **ranked.room.to_json(),
        "viewers": ranked.viewers,
        "discovery": ranked.discovery_json(request.app[DISCOVERY].window_s),
    }


@admits_anyone
async def get_room(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    return web.json_response(await _room_view(request, room))


async def _room_view(request: web.Request, room: Room) -> dict[str, Any]:
    """The room with its viewers, pinned product, active sales and (live) discovery now."""
    viewers = await request.app[PRESENCE].total(room.id)
    if room.status is RoomStatus.live:
        (ranked,) = await request.app[DISCOVERY].rank([room], [viewers])
        view = _ranked_view(request, ranked)
    else:
        view = {**room.to_json(), "viewers": viewers}
    pinned = await request.app[CATALOG].pinned(room.id)
    view["pinned_product"] = pinned.to_json() if pinned else None
    view["sales"] = [sale.to_json() for sale in await request.app[SALES].active(room.id)]
    live = room.status is RoomStatus.live
    view["hls_url"] = await request.app[RECORDINGS].hls_path(room.id) if live else None
    return view


@admits(Role.anchor, Role.moderator, Role.admin)
async def end_room(request: web.Request) -> web.Response:
    """End the room (its anchor, a moderator or an admin); ending twice is harmless."""
    service = request.app[ROOMS]
    room = await service.get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator, Role.admin)
    await read_json_object(request, allow_empty=True)
    if room.status is not RoomStatus.ended:
        await end_running_formats(request.app, room.id)
    ended = await service.end(room.id)
    await request.app[ANALYTICS].freeze(room.id)
    return web.json_response(await _room_view(request, ended))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/rooms", create_room)
    app.router.add_get("/api/rooms", list_rooms)
    app.router.add_get("/api/rooms/{room}", get_room)
    app.router.add_post("/api/rooms/{room}/end", end_room)
