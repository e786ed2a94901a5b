"""WHIP ingest (RFC 9725): the anchor publishes the room's stream."""

from __future__ import annotations

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.web.access import admits, admits_anyone, caller
from livecommerce.web.client_address import client_address
from livecommerce.web.node_calls import own_url
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
from livecommerce.web.state import LIVE, SETTINGS


@admits(Role.anchor)
async def publish(request: web.Request) -> web.Response:
    """An SDP offer from the room's anchor → 201 with the answer and the session's Location."""
    room_id = room_id_of(request)
    offer = await read_text_body(request, SDP, "SDP offer")
    answer = await request.app[LIVE].publish(
        caller(request), room_id, offer, own_url(request), client_address(request)
    )
    location = f"/whip/{room_id}/{answer.session_id}"
    return session_created(answer, location, request.app[SETTINGS].media)


@admits(Role.anchor, Role.moderator, Role.admin)
@routed_to_holder
async def end(request: web.Request) -> web.Response:
    """End the publication; 200 also when it already ended (the client closed first)."""
    streams = request.app[LIVE]
    room_id = room_id_of(request)
    session = streams.find_publication(room_id, request.match_info["session"])
    if session is not None:
        streams.check_may_end(caller(request), session)
        await streams.end_session(session.session_id)
    return web.Response(status=200)


@admits(Role.anchor)
@routed_to_holder
async def trickle(request: web.Request) -> web.Response:
    """Trickled ICE candidates for the publication (RFC 8840 fragment) → 204."""
    streams = request.app[LIVE]
    room_id = room_id_of(request)
    session_id = request.match_info["session"]
    session = streams.find_publication(room_id, session_id)
    check_if_match(request, session_id)
    fragment = await read_text_body(request, SDP_FRAGMENT, "SDP fragment")
    if session is not None:
        streams.check_is_publisher(caller(request), session)
        await streams.trickle(session, fragment)
    return web.Response(status=204)


@admits_anyone
async def options(request: web.Request) -> web.Response:
    """CORS preflight and the WHIP ``Accept-Post`` advertisement."""
    return preflight(request.app[SETTINGS].media)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/whip/{room}", publish)
    app.router.add_route("OPTIONS", "/whip/{room}", options)
    app.router.add_delete("/whip/{room}/{session}", end)
    app.router.add_patch("/whip/{room}/{session}", trickle)
    app.router.add_route("OPTIONS", "/whip/{room}/{session}", options)
