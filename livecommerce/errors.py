"""The error catalogue: one table of every error a client can see.

Each entry has a stable snake_case code, the HTTP status it answers with, the
WebSocket close code used when the error ends a connection, and a default
human sentence. Handlers raise :class:`ApiError`; the web layer turns it into
``{"error": {"code", "message"}}`` and the channel into an ``error`` frame.

This module is a leaf: it imports nothing from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    close_code: int
    message: str


class ErrorCode(Enum):
    """Every error code. Close codes 4000-4999 are ours (RFC 6455 private range)."""

    invalid_json = ErrorSpec(400, 4400, "The request body is not valid JSON.")
    invalid_body = ErrorSpec(400, 4400, "The request body must be a JSON object.")
    invalid_field = ErrorSpec(400, 4400, "A field has a bad value.")
    missing_field = ErrorSpec(400, 4400, "A required field is missing.")
    unknown_field = ErrorSpec(400, 4400, "The request has a field this endpoint does not take.")
    invalid_parameter = ErrorSpec(400, 4400, "A query parameter has a bad value.")
    unauthorized = ErrorSpec(401, 4401, "This needs a token: Authorization: Bearer TOKEN.")
    token_invalid = ErrorSpec(401, 4401, "The token is not valid.")
    token_expired = ErrorSpec(401, 4401, "The token has expired.")
    forbidden_role = ErrorSpec(403, 4403, "Your role may not do this.")
    not_your_room = ErrorSpec(403, 4403, "Only this room's anchor may do this.")
    origin_not_allowed = ErrorSpec(403, 4403, "Pages from this site may not use this server.")
    not_found = ErrorSpec(404, 4404, "There is nothing at this address.")
    room_not_found = ErrorSpec(404, 4404, "No such room.")
    demo_disabled = ErrorSpec(404, 4404, "Demo tokens are off on this server; ask for a token.")
    method_not_allowed = ErrorSpec(405, 4405, "This method is not allowed here.")
    session_not_found = ErrorSpec(404, 4404, "No such media session.")
    conflict = ErrorSpec(409, 4409, "The request conflicts with the current state.")
    room_not_live = ErrorSpec(409, 4409, "The room is not live yet; try again shortly.")
    publisher_exists = ErrorSpec(409, 4409, "Someone else is already live in this room.")
    invalid_sdp = ErrorSpec(400, 4400, "The body is not a valid SDP offer.")
    invalid_sdp_fragment = ErrorSpec(400, 4400, "The body is not a valid trickle ICE SDP fragment.")
    precondition_failed = ErrorSpec(412, 4412, "If-Match does not match this session's ETag.")
    unprocessable_offer = ErrorSpec(
        422, 4422, "The offer asks for something this server cannot do."
    )
    ice_restart_unsupported = ErrorSpec(
        422, 4422, "ICE restarts are not supported; start a new session."
    )
    body_too_large = ErrorSpec(413, 4413, "The request body is too large.")
    unsupported_media_type = ErrorSpec(415, 4415, "The request has the wrong Content-Type.")
    rate_limited = ErrorSpec(429, 4429, "Too many requests; slow down.")
    too_many_connections = ErrorSpec(
        429, 4429, "Too many connections from your address; close some and try again."
    )
    slow_mode = ErrorSpec(429, 4429, "Slow mode is on; wait before your next message.")
    sign_in_required = ErrorSpec(401, 4401, "Sign in to do this; anonymous viewers may only watch.")
    banned = ErrorSpec(403, 4403, "You are banned from this room.")
    room_muted = ErrorSpec(403, 4403, "The room is muted; only its anchor and moderators may chat.")
    muted = ErrorSpec(403, 4403, "You are muted in this room for now.")
    blocked_term = ErrorSpec(400, 4400, "The message contains a term this room does not allow.")
    message_too_long = ErrorSpec(400, 4400, "The message is too long.")
    bad_frame = ErrorSpec(400, 4400, "The frame could not be understood.")
    unknown_type = ErrorSpec(400, 4400, "The frame has an unknown type.")
    too_many_bad_frames = ErrorSpec(400, 4400, "Too many bad frames; closing the connection.")
    slow_consumer = ErrorSpec(503, 4408, "The connection could not keep up with the room.")
    room_ended = ErrorSpec(409, 4410, "The room has ended.")
    message_not_found = ErrorSpec(404, 4404, "No such chat message in this room.")
    buyers_only = ErrorSpec(403, 4403, "Only the room's buyers may chat right now.")
    review_item_not_found = ErrorSpec(
        404, 4404, "No such review item: another moderator decided it, or it expired."
    )
    product_not_found = ErrorSpec(404, 4404, "No such product in this room.")
    sale_not_found = ErrorSpec(404, 4404, "No such flash sale in this room.")
    order_not_found = ErrorSpec(404, 4404, "No such order.")
    not_your_order = ErrorSpec(403, 4403, "This order belongs to another buyer.")
    reservation_expired = ErrorSpec(409, 4409, "The reservation expired before it was settled.")
    order_paid = ErrorSpec(409, 4409, "The order is already paid.")
    order_cancelled = ErrorSpec(409, 4409, "The order was cancelled.")
    order_expired = ErrorSpec(409, 4409, "The order's reservation expired.")
    image_invalid = ErrorSpec(400, 4400, "The file is not a PNG, JPEG or WebP image.")
    image_dimensions = ErrorSpec(422, 4422, "The image has more pixels than this server takes.")
    voucher_not_found = ErrorSpec(404, 4404, "No such voucher in this room.")
    auction_not_found = ErrorSpec(404, 4404, "No such auction in this room.")
    giveaway_not_found = ErrorSpec(404, 4404, "No such giveaway.")
    internal_error = ErrorSpec(500, 1011, "Something went wrong on the server.")
    store_unavailable = ErrorSpec(503, 1013, "The store is unavailable; try again shortly.")
    shutting_down = ErrorSpec(
        503, 4503, "This node is restarting; reconnect, and you reach another node."
    )
    node_unavailable = ErrorSpec(
        503, 1013, "The node holding this media session does not answer; try again shortly."
    )
    media_capacity = ErrorSpec(
        503, 1013, "This node serves as many media sessions as it can; try again later."
    )
    replay_not_found = ErrorSpec(404, 4404, "No such replay.")
    hls_not_available = ErrorSpec(
        404, 4404, "This room has no live HLS now (it is not live, or not in H.264)."
    )

    @property
    def spec(self) -> ErrorSpec:
        return self.value


class ApiError(Exception):
    """An error a client is meant to see, described by a catalogue entry."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        self.code = code
        self.message = message or code.spec.message
        self.headers = headers or {}
        self.details = details
        super().__init__(f"{code.name}: {self.message}")

    @property
    def status(self) -> int:
        return self.code.spec.status

    def body(self) -> dict[str, Any]:
        """The JSON error body from CONTRACT.md."""
        error: dict[str, Any] = {"code": self.code.name, "message": self.message}
        error.update(self.details)
        return {"error": error}


def error_for_status(status: int) -> ErrorCode:
    """The catalogue entry for an HTTP status raised by the framework itself."""
    by_status = {
        400: ErrorCode.invalid_body,
        404: ErrorCode.not_found,
        405: ErrorCode.method_not_allowed,
        413: ErrorCode.body_too_large,
        415: ErrorCode.unsupported_media_type,
        429: ErrorCode.rate_limited,
        503: ErrorCode.store_unavailable,
    }
    return by_status.get(status, ErrorCode.internal_error)
