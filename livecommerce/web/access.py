"""Who may call a handler: each handler states the roles it admits.

``@admits(Role.anchor, ...)`` requires a valid bearer token with one of those
roles; ``@admits_anyone`` lets anonymous callers in but still rejects a token
that is present and invalid (a client should learn its token is bad).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from livecommerce.auth import Principal, Role, verify_token
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.rooms.models import Room
from livecommerce.web.state import PRINCIPAL, SIGNING_SECRET

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ADMITS_ATTRIBUTE = "__admits__"
ANYONE = "anyone"


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


def admits(*roles: Role) -> Callable[[Handler], Handler]:
    """Admit only callers whose token carries one of ``roles``."""
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
            return await handler(request)

        setattr(checked, ADMITS_ATTRIBUTE, allowed)
        return checked

    return decorate


def admits_anyone(handler: Handler) -> Handler:
    """Admit anonymous callers; a token, if sent, must still be valid."""

    @functools.wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        authenticate(request, bearer_token(request))
        return await handler(request)

    setattr(checked, ADMITS_ATTRIBUTE, ANYONE)
    return checked


def admits_anyone_checked_inside(handler: Handler) -> Handler:
    """Admit anyone; the handler authenticates itself (a WebSocket reports errors as frames)."""
    setattr(handler, ADMITS_ATTRIBUTE, ANYONE)
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
