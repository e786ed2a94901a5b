"""``GET /ws/rooms/{room}``: the room channel over WebSocket.

After the upgrade every problem is reported as an ``error`` frame (browsers
cannot read an HTTP status of a refused upgrade), followed by a close with
the catalogue's close code when the connection cannot go on. Before it, only
a page of another site not in ``server.cors_origins`` (403 ``origin_not_allowed``,
see :mod:`livecommerce.web.cors`), bad query parameters (400) and an address over
``channel.max_sockets_per_address`` (429) are refused.

A token reaches only its ``room`` claim's room (else close 4403
``not_your_room``) and only until it expires: at its ``exp`` the socket gets a
``token_expired`` error frame and is closed with 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import WSMsgType, web

from livecommerce.auth import Principal, Role, verify_token
from livecommerce.channel.chat import valid_message_id
from livecommerce.channel.events import check_frame
from livecommerce.channel.format_messages import Bid, Claim, Enter
from livecommerce.channel.messages import (
    Buy,
    Chat,
    ClientMessage,
    Like,
    Ping,
    Report,
    ViewProduct,
    parse_client_message,
)
from livecommerce.channel.session import ChannelSession, now_ms
from livecommerce.channel.welcome import WelcomeSources, read_welcome, start_session
from livecommerce.channel.wire import (
    ProtocolError,
    WireFormat,
    decode_client_frame,
    encode_payload,
)
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.rooms.models import Room, RoomStatus
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.web.access import admits_anyone_checked_inside, bearer_token
from livecommerce.web.analytics import view_product
from livecommerce.web.channel_sockets import CHANNEL_SOCKETS, SocketsPerAddress
from livecommerce.web.client_address import client_address
from livecommerce.web.cors import require_allowed_origin
from livecommerce.web.formats_app import FORMATS_VIEW, after_chat, answer_format
from livecommerce.web.rate import StrikeCounter, TokenBucket
from livecommerce.web.state import (
    ANALYTICS,
    CATALOG,
    CHAT,
    HUB,
    LIKES,
    METRICS,
    MODERATION,
    ORDERS,
    REVIEW,
    ROOMS,
    SALES,
    SETTINGS,
    SIGNING_SECRET,
)

log = logging.getLogger("livecommerce.channel")
# Frames aiohttp itself refuses (closing with 1009); ours is checked below it.
HARD_FRAME_LIMIT = 65_536
STAFF = (Role.moderator, Role.admin)
# Close codes counted under their own label (any other a client sends counts as "other"):
# the standard ones a server sees, and every code of the error catalogue.
COUNTED_CLOSE_CODES = frozenset({1000, 1001, 1005, 1006, 1009, 1011}) | frozenset(
    code.spec.close_code for code in ErrorCode
)


class AiohttpConnection:
    """:class:`~livecommerce.channel.session.Connection` over an aiohttp WebSocket."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self._ws = ws
        self._transport = request.transport

    def write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def buffered_bytes(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport is not None else 0

    def is_closing(self) -> bool:
        return self._transport is None or self._transport.is_closing() or self._ws.closed

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code=code, message=reason.encode()[:120])

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def error_frame(error: ApiError) -> dict[str, object]:
    return {"type": "error", "code": error.code.name, "message": error.message, **error.details}


def _wire_format(request: web.Request) -> WireFormat:
    raw = request.query.get("format", WireFormat.msgpack.value)
    try:
        return WireFormat(raw)
    except ValueError:
        raise ApiError(
            ErrorCode.invalid_parameter, f"format must be msgpack or json, not {raw[:20]!r}."
        ) from None


def _resume_id(request: web.Request) -> str | None:
    raw = request.query.get("resume")
    if raw is None or raw == "":
        return None
    if not valid_message_id(raw):
        raise ApiError(
            ErrorCode.invalid_parameter, "resume must be a message id like 1700000000000-0."
        )
    return raw


async def _send_direct(
    ws: web.WebSocketResponse, wire: WireFormat, message: dict[str, object]
) -> None:
    """Send a registered frame before the session exists (EventError otherwise)."""
    check_frame(message)
    payload = encode_payload(message, wire)
    if wire is WireFormat.msgpack:
        await ws.send_bytes(payload)
    else:
        await ws.send_str(payload.decode())


async def _refuse(ws: web.WebSocketResponse, wire: WireFormat, error: ApiError) -> int | None:
    """Tell the client why with an error frame, then close with the catalogue's code
    (returned; None when the socket was closed already)."""
    if ws.closed:
        return None
    with contextlib.suppress(ConnectionError):
        await _send_direct(ws, wire, error_frame(error))
        await ws.close(code=error.code.spec.close_code, message=error.code.name.encode())
    return error.code.spec.close_code


def _privileged(principal: Principal | None, room: Room) -> bool:
    if principal is None:
        return False
    return principal.role in STAFF or principal.may_act_on_room(room.id, room.anchor)


@admits_anyone_checked_inside
async def room_channel(request: web.Request) -> web.StreamResponse:
    """Join a room's channel: welcome snapshot, then live events both ways.

    Once the upgrade is done nothing may escape as an HTTP answer: every
    failure becomes an error frame and a close code.
    """
    require_allowed_origin(request)
    settings = request.app[SETTINGS].channel
    wire = _wire_format(request)
    resume = _resume_id(request)
    address = client_address(request)
    sockets = request.app[CHANNEL_SOCKETS]
    if not sockets.open(address, settings.max_sockets_per_address):
        raise ApiError(ErrorCode.too_many_connections)
    try:
        return await _upgrade_and_serve(request, wire, resume)
    finally:
        sockets.close(address)


async def _upgrade_and_serve(
    request: web.Request, wire: WireFormat, resume: str | None
) -> web.WebSocketResponse:
    settings = request.app[SETTINGS].channel
    ws = web.WebSocketResponse(
        heartbeat=settings.heartbeat_s,
        compress=False,
        max_msg_size=max(HARD_FRAME_LIMIT, settings.max_frame_bytes),
    )
    await ws.prepare(request)
    metrics = request.app[METRICS]
    metrics.sockets_opened.inc()
    sent: int | None = None  # the close code this side sent, if it closed first
    try:
        sent = await _admit_and_serve(request, ws, wire, resume)
    except ApiError as error:
        sent = await _refuse(ws, wire, error)
    except STORE_UNAVAILABLE_ERRORS:
        metrics.store_unavailable.inc("channel")
        sent = await _refuse(ws, wire, ApiError(ErrorCode.store_unavailable))
    except (ConnectionError, asyncio.CancelledError):
        metrics.sockets_closed.inc(close_label(ws.close_code))
        raise
    except Exception:
        log.exception("channel session in room %s failed", request.match_info["room"])
        sent = await _refuse(ws, wire, ApiError(ErrorCode.internal_error))
    metrics.sockets_closed.inc(close_label(sent if sent is not None else ws.close_code))
    return ws


def close_label(code: int | None) -> str:
    """A close code as a metric label, bounded whatever codes clients send."""
    if code is None:
        return "none"
    return str(code) if code in COUNTED_CLOSE_CODES else "other"


async def _admit_and_serve(
    request: web.Request, ws: web.WebSocketResponse, wire: WireFormat, resume: str | None
) -> int | None:
    """Serve a session until it ends; the close code this side sent, if it closed first."""
    token = request.query.get("token") or bearer_token(request)
    principal = verify_token(request.app[SIGNING_SECRET], token) if token else None
    if principal is not None and not principal.reaches_room(request.match_info["room"]):
        raise ApiError(ErrorCode.not_your_room, "This token is for another room.")
    room = await request.app[ROOMS].find(request.match_info["room"])
    if room is None:
        raise ApiError(ErrorCode.room_not_found)
    if room.status is RoomStatus.ended:
        raise ApiError(ErrorCode.room_ended)
    moderation = await request.app[MODERATION].state(room.id, principal.user if principal else None)
    if moderation.banned:
        await _send_direct(ws, wire, {"type": "banned"})
        raise ApiError(ErrorCode.banned)
    session = ChannelSession(
        connection=AiohttpConnection(ws, request),
        wire=wire,
        room_id=room.id,
        user=principal.user if principal else None,
        role=principal.role.value if principal else None,
        privileged=_privileged(principal, room),
        max_buffer=request.app[SETTINGS].channel.send_buffer_bytes,
    )
    hub = request.app[HUB]
    await hub.join(session)
    if principal is not None and principal.expires_at > 0:
        session.end_at("token-expiry", principal.expires_at * 1000, ErrorCode.token_expired)
    try:
        if not session.privileged:
            await request.app[ANALYTICS].entered(room.id, session.user, client_address(request))
        welcome = await read_welcome(
            _welcome_sources(request),
            session=session,
            room=room,
            moderation=moderation,
            resume=resume,
        )
        start_session(session, welcome, resume)
        await _serve_frames(request, ws, session, principal)
    except STORE_UNAVAILABLE_ERRORS:
        request.app[METRICS].store_unavailable.inc("channel")
        session.close(ErrorCode.store_unavailable.spec.close_code, "store unavailable")
    finally:
        if not session.privileged:
            request.app[ANALYTICS].left(room.id, session.user)
        await hub.leave(session)
        await session.wait_closed()
        if not ws.closed:
            await ws.close()
    return session.close_code


def _welcome_sources(request: web.Request) -> WelcomeSources:
    settings = request.app[SETTINGS].channel
    return WelcomeSources(
        chat=request.app[CHAT],
        likes=request.app[LIKES],
        hub=request.app[HUB],
        catalog=request.app[CATALOG],
        sales=request.app[SALES],
        formats=request.app[FORMATS_VIEW],
        welcome_messages=settings.welcome_messages,
        history_size=settings.history_size,
    )


async def _serve_frames(
    request: web.Request,
    ws: web.WebSocketResponse,
    session: ChannelSession,
    principal: Principal | None,
) -> None:
    settings = request.app[SETTINGS].channel
    frames = TokenBucket(settings.frames_burst, settings.frames_per_s)
    strikes = StrikeCounter(settings.bad_frames_limit, forgive_every_s=10.0)
    async for message in ws:
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            continue
        if not session.take_frame():
            return  # closing or draining: no more frames are read
        try:
            if not await _handle_frame(request, session, principal, message.data, frames, strikes):
                return
        finally:
            session.frame_done()


async def _handle_frame(
    request: web.Request,
    session: ChannelSession,
    principal: Principal | None,
    data: bytes | str,
    frames: TokenBucket,
    strikes: StrikeCounter,
) -> bool:
    """Answer one frame; False when the session must end (too many bad frames)."""
    settings = request.app[SETTINGS].channel
    if not frames.take():
        session.send(error_frame(ApiError(ErrorCode.rate_limited, "Too many frames; slow down.")))
        return True
    try:
        parsed = _parse(
            data,
            session,
            settings.max_frame_bytes,
            settings.max_chat_chars,
            settings.max_likes_per_frame,
        )
    except ProtocolError as error:
        session.send({"type": "error", "code": error.code, "message": str(error)})
        if strikes.strike():
            session.end_with(ErrorCode.too_many_bad_frames)
            return False
        return True
    except Exception:
        log.exception("decoding a frame in room %s failed", session.room_id)
        session.send(error_frame(ApiError(ErrorCode.internal_error)))
        return True
    await _answer(request, session, principal, parsed)
    return True


async def _answer(
    request: web.Request,
    session: ChannelSession,
    principal: Principal | None,
    message: ClientMessage,
) -> None:
    """Handle one frame; whatever goes wrong is answered to this frame's sender only and
    never ends the connection."""
    # An error answering a buy names its key, so a client with several buys in flight
    # knows which one to retry.
    key = message.key if isinstance(message, Buy | Claim | Bid | Enter) else None
    about = {"key": key} if key is not None else {}
    try:
        await _dispatch(request, session, principal, message)
    except ApiError as error:
        session.send({**error_frame(error), **about})
    except STORE_UNAVAILABLE_ERRORS:
        # The connection stays: a buyer retries with the same key once the store is back.
        session.send({**error_frame(ApiError(ErrorCode.store_unavailable)), **about})
    except Exception:
        log.exception(
            "a %s frame in room %s failed", type(message).__name__.lower(), session.room_id
        )
        session.send({**error_frame(ApiError(ErrorCode.internal_error)), **about})


def _parse(
    data: bytes | str, session: ChannelSession, max_bytes: int, max_chars: int, max_likes: int
) -> ClientMessage:
    size = len(data) if isinstance(data, bytes) else len(data.encode(errors="surrogatepass"))
    if size > max_bytes:
        raise ProtocolError("bad_frame", f"The frame is {size} bytes; the limit is {max_bytes}.")
    frame = decode_client_frame(data, session.wire)
    return parse_client_message(frame, max_chars, max_likes)


async def _dispatch(
    request: web.Request,
    session: ChannelSession,
    principal: Principal | None,
    message: ClientMessage,
) -> None:
    if isinstance(message, Ping):
        session.send({"type": "pong", "ts": int(time.time() * 1000)})
        return
    if isinstance(message, ViewProduct):
        await view_product(request, session, principal, message)
        return
    if principal is None:
        raise ApiError(ErrorCode.sign_in_required)
    if 0 < principal.expires_at * 1000 <= now_ms():  # its timer has not fired yet
        session.end_with(ErrorCode.token_expired)
        return
    if isinstance(message, Chat):
        await request.app[CHAT].post(
            session.room_id, principal.user, principal.role.value, message.text, session.privileged
        )
        await after_chat(request, session.room_id, principal.user, message.text)
    elif isinstance(message, Like):
        request.app[LIKES].add(
            session.room_id, principal.user, message.count, engaging=not session.privileged
        )
    elif isinstance(message, Buy):
        answer = await request.app[ORDERS].buy(
            session.room_id,
            message.sale,
            principal.user,
            message.qty,
            message.key,
            message.voucher_claim,
        )
        session.send(answer.frame(message.key))
    elif isinstance(message, Report):
        await _report(request, session, principal, message)
    elif isinstance(message, Claim | Bid | Enter):
        await answer_format(request, session, principal, message)


async def _report(
    request: web.Request, session: ChannelSession, principal: Principal, report: Report
) -> None:
    if not valid_message_id(report.message):
        raise ApiError(ErrorCode.message_not_found)
    outcome = await request.app[REVIEW].report(
        session.room_id, report.message, principal.user, report.reason
    )
    frame = {"type": "report_received", "message": report.message}
    session.send({**frame, "duplicate": outcome.duplicate})


def add_routes(app: web.Application) -> None:
    app[CHANNEL_SOCKETS] = SocketsPerAddress()
    app.router.add_get("/ws/rooms/{room}", room_channel)
