"""WHEP playback: a viewer plays the room's stream."""

from __future__ import annotations

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.live.service import OriginElsewhereError
from livecommerce.web.access import (
    admits,
    admits_anyone,
    caller,
    require_room_authority,
    require_room_scope,
)
from livecommerce.web.node_calls import media_client, own_url
from livecommerce.web.rooms import room_id_of
from livecommerce.web.sdp_http import (
    SDP,
    SDP_FRAGMENT,
    check_if_match,
    preflight,
    read_text_body,
    session_created,
)
from livecommerce.web.session_routing import routed_to_holder
from livecommerce.web.state import LIVE, PRINCIPAL, ROOMS, SETTINGS


@admits_anyone
async def play(request: web.Request) -> web.StreamResponse:
    """A recvonly SDP offer → 201 with the answer; 409 + Retry-After while not live."""
    room_id = room_id_of(request)
    offer = await read_text_body(request, SDP, "SDP offer")
    client, node_itself = await media_client(request)
    try:
        answer = await request.app[LIVE].play(
            request.get(PRINCIPAL), room_id, offer, own_url(request), client, node_itself
        )
    except OriginElsewhereError as elsewhere:
        # The stream is served by another node: the client re-POSTs there (RFC 9110 §15.4.8).
        # The origin is the URL that node recorded from its own configuration.
        raise web.HTTPTemporaryRedirect(f"{elsewhere.origin}/whep/{room_id}") from None
    location = f"/whep/{room_id}/{answer.session_id}"
    return session_created(answer, location, request.app[SETTINGS].media)


@admits_anyone
@routed_to_holder
async def end(request: web.Request) -> web.Response:
    """End the viewer's session (its URL is the capability); 200 if it already ended."""
    streams = request.app[LIVE]
    session = streams.find_subscription(room_id_of(request), request.match_info["session"])
    if session is not None:
        await streams.end_session(session.session_id)
    return web.Response(status=200)


@admits_anyone
@routed_to_holder
async def trickle(request: web.Request) -> web.Response:
    """Trickled ICE candidates for the viewer's session → 204."""
    streams = request.app[LIVE]
    session_id = request.match_info["session"]
    session = streams.find_subscription(room_id_of(request), session_id)
    check_if_match(request, session_id)
    fragment = await read_text_body(request, SDP_FRAGMENT, "SDP fragment")
    if session is not None:
        await streams.trickle(session, fragment)
    return web.Response(status=204)


@admits_anyone
async def options(request: web.Request) -> web.Response:
    """CORS preflight and the ``Accept-Post`` advertisement."""
    return preflight(request.app[SETTINGS].media)


@admits(Role.anchor, Role.moderator, Role.admin)
async def media_stats(request: web.Request) -> web.Response:
    """Frames and bytes in and out, drops and keyframe requests of the room's stream here.

    Sessions appear by label, never by id: a session id is its URL's capability.
    """
    room_id = room_id_of(request)
    require_room_scope(caller(request), room_id)
    room = await request.app[ROOMS].get(room_id)
    require_room_authority(caller(request), room, Role.moderator, Role.admin)
    stats = request.app[LIVE].stats(room.id)
    return web.json_response({"room": room.id, "live_here": stats is not None, **(stats or {})})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/whep/{room}", play)
    app.router.add_route("OPTIONS", "/whep/{room}", options)
    app.router.add_delete("/whep/{room}/{session}", end)
    app.router.add_patch("/whep/{room}/{session}", trickle)
    app.router.add_route("OPTIONS", "/whep/{room}/{session}", options)
    app.router.add_get("/api/rooms/{room}/media", media_stats)
