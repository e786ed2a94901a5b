"""Who may call a handler: each handler states the roles it admits.

``@admits(Role.anchor, ...)`` requires a valid bearer token with one of those
roles; ``@admits_anyone`` lets anonymous callers in but still rejects a token
that is present and invalid (a client should learn its token is bad).

Both also enforce a token's ``room`` claim (CONTRACT "Tokens and rooms"), so no
handler can forget it: on a route whose path names a ``{room}``, a token for
another room is refused (403 ``not_your_room``) before the handler runs; on a
route that names no room, a room-limited token is refused too when the route
needs a token, unless the handler finds the room itself (an order's room) and
says so with ``room_from=RoomFrom.handler``. Routes anyone may call without a
room (the room list, health) take such a token as they take any valid one.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from enum import Enum

from aiohttp import web

from livecommerce.auth import Principal, Role, verify_token
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.rooms.models import Room
from livecommerce.web.state import PRINCIPAL, SIGNING_SECRET

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ADMITS_ATTRIBUTE = "__admits__"
ROOM_FROM_ATTRIBUTE = "__room_from__"
ANYONE = "anyone"
ROOM_PARAMETER = "room"


class RoomFrom(Enum):
    """Where a handler's room comes from, for the check of a token's ``room`` claim."""

    # The path's {room}; a route without one is about no single room.
    path = "path"
    # The handler loads the resource and calls require_room_scope with its room.
    handler = "handler"


def bearer_token(request: web.Request) -> str | None:
    """The token from ``Authorization: Bearer …``, or None when there is no header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(ErrorCode.unauthorized, "The Authorization header must be 'Bearer TOKEN'.")
    return token.strip()


def authenticate(request: web.Request, token: str | None) -> Principal | None:
    if token is None:
        return None
    principal = verify_token(request.app[SIGNING_SECRET], token)
    request[PRINCIPAL] = principal
    return principal


def check_room_claim(
    request: web.Request, principal: Principal | None, room_from: RoomFrom
) -> None:
    """Refuse a room-limited token outside its room (see the module's docstring)."""
    if principal is None or principal.room is None or room_from is RoomFrom.handler:
        return
    room_id = request.match_info.get(ROOM_PARAMETER)
    if room_id is None:
        raise ApiError(
            ErrorCode.not_your_room,
            f"This token is for room {principal.room!r} only; this request is not about one room.",
        )
    require_room_scope(principal, room_id)


def admits(*roles: Role, room_from: RoomFrom = RoomFrom.path) -> Callable[[Handler], Handler]:
    """Admit only callers whose token carries one of ``roles`` and reaches the route's room."""
    allowed = frozenset(roles)

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            principal = authenticate(request, bearer_token(request))
            if principal is None:
                raise ApiError(ErrorCode.unauthorized)
            if principal.role not in allowed:
                names = ", ".join(sorted(r.value for r in allowed))
                raise ApiError(
                    ErrorCode.forbidden_role,
                    f"Role {principal.role.value!r} may not do this; it needs: {names}.",
                )
            check_room_claim(request, principal, room_from)
            return await handler(request)

        setattr(checked, ADMITS_ATTRIBUTE, allowed)
        setattr(checked, ROOM_FROM_ATTRIBUTE, room_from)
        return checked

    return decorate


def admits_anyone(handler: Handler) -> Handler:
    """Admit anonymous callers; a token, if sent, must be valid and reach the path's room."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        principal = authenticate(request, bearer_token(request))
        if principal is not None and ROOM_PARAMETER in request.match_info:
            check_room_claim(request, principal, RoomFrom.path)
        return await handler(request)

    setattr(checked, ADMITS_ATTRIBUTE, ANYONE)
    setattr(checked, ROOM_FROM_ATTRIBUTE, RoomFrom.path)
    return checked


def admits_anyone_checked_inside(handler: Handler) -> Handler:
    """Admit anyone; the handler authenticates itself and checks the token's room (a
    WebSocket reports errors as frames)."""
    setattr(handler, ADMITS_ATTRIBUTE, ANYONE)
    setattr(handler, ROOM_FROM_ATTRIBUTE, RoomFrom.handler)
    return handler


def caller(request: web.Request) -> Principal:
    """The authenticated principal of a handler decorated with :func:`admits`."""
    return request[PRINCIPAL]


def require_room_scope(principal: Principal | None, room_id: str) -> None:
    """Refuse a token limited to another room: every role, every surface (403 not_your_room)."""
    if principal is not None and not principal.reaches_room(room_id):
        raise ApiError(
            ErrorCode.not_your_room, f"This token is for room {principal.room!r}, not {room_id!r}."
        )


def require_room_authority(principal: Principal, room: Room, *staff: Role) -> None:
    """Pass when the caller is the room's anchor or has one of the ``staff`` roles."""
    if principal.role in staff:
        return
    if principal.may_act_on_room(room.id, room.anchor):
        return
    raise ApiError(ErrorCode.not_your_room, f"Only the anchor of room {room.id!r} may do this.")
