"""Moderation API: actions, message deletion, the audit log."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from livecommerce.auth import Role, valid_identifier
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.moderation.service import Action, ModerationRequest
from livecommerce.web.access import admits, caller, require_room_authority
from livecommerce.web.body import (
    optional_int,
    read_json_object,
    reject_unknown,
    required_int,
    text_field,
)
from livecommerce.web.query import int_param
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import MODERATION, ROOMS, SETTINGS

MODERATORS = (Role.anchor, Role.moderator, Role.admin)
# A chat message id is its store stream id. ASCII digits only, whole string: "\d" and "$"
# would let other scripts' digits or a trailing newline through to the store, which refuses them.
MESSAGE_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
MAX_SLOW_MODE_S = 3600
MAX_LOG_LIMIT = 1000
DEFAULT_LOG_LIMIT = 100
# Fields each action takes; "user" and "duration_s"/"interval_s" are required where listed.
FIELDS: dict[Action, tuple[set[str], set[str]]] = {
    Action.mute_room: (set(), {"duration_s", "reason"}),
    Action.unmute_room: (set(), {"reason"}),
    Action.mute_user: ({"user", "duration_s"}, {"reason"}),
    Action.unmute_user: ({"user"}, {"reason"}),
    Action.ban: ({"user"}, {"reason"}),
    Action.unban: ({"user"}, {"reason"}),
    Action.slow_mode: ({"interval_s"}, {"reason"}),
}


def _action(request: web.Request) -> Action:
    raw = request.match_info["action"]
    try:
        action = Action(raw)
    except ValueError:
        action = None
    if action is None or action not in FIELDS:
        names = ", ".join(a.value for a in FIELDS)
        raise ApiError(
            ErrorCode.not_found, f"Unknown moderation action {raw[:40]!r}; actions: {names}."
        )
    return action


def _user_field(body: dict[str, Any]) -> str:
    user = text_field(body, "user", max_chars=128, required=True)
    if not valid_identifier(user):
        raise ApiError(
            ErrorCode.invalid_field, "Field 'user' is not a valid user id.", field="user"
        )
    return user


async def _authorised_room(request: web.Request) -> Any:
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator, Role.admin)
    return room


@admits(*MODERATORS)
async def moderate(request: web.Request) -> web.Response:
    """Apply one action; 200 with its audit entry."""
    action = _action(request)
    room = await _authorised_room(request)
    limits = request.app[SETTINGS].moderation
    body = await read_json_object(request, allow_empty=True)
    required, optional = FIELDS[action]
    reject_unknown(body, required | optional)
    target = _user_field(body) if "user" in required else ""
    if target and target == room.anchor and action in (Action.ban, Action.mute_user):
        raise ApiError(
            ErrorCode.conflict, "The room's anchor cannot be banned or muted in their room."
        )
    duration = 0
    if action is Action.mute_user:
        duration = required_int(body, "duration_s", 1, limits.max_duration_s)
    if action is Action.mute_room:
        duration = optional_int(body, "duration_s", 0, limits.max_duration_s) or 0
    if action is Action.slow_mode:
        duration = required_int(body, "interval_s", 0, MAX_SLOW_MODE_S)
    reason = text_field(body, "reason", max_chars=limits.max_reason_chars, required=False)
    principal = caller(request)
    entry = await request.app[MODERATION].act(
        room.id,
        ModerationRequest(action, principal.user, principal.role.value, target, reason, duration),
    )
    return web.json_response({"room": room.id, "entry": entry.to_json()})


@admits(*MODERATORS)
async def delete_message(request: web.Request) -> web.Response:
    """Remove a chat message from the history and from every client."""
    room = await _authorised_room(request)
    message_id = request.match_info["message"]
    if MESSAGE_ID.fullmatch(message_id) is None:
        raise ApiError(ErrorCode.message_not_found, f"{message_id[:40]!r} is not a message id.")
    principal = caller(request)
    entry = await request.app[MODERATION].act(
        room.id,
        ModerationRequest(Action.delete_message, principal.user, principal.role.value, message_id),
    )
    return web.json_response({"room": room.id, "deleted": message_id, "entry": entry.to_json()})


@admits(*MODERATORS)
async def moderation_log(request: web.Request) -> web.Response:
    """The room's audit log, newest first (``?limit=``, default 100)."""
    room = await _authorised_room(request)
    limit = int_param(request, "limit", 1, MAX_LOG_LIMIT, DEFAULT_LOG_LIMIT)
    entries = await request.app[MODERATION].log(room.id, limit)
    return web.json_response({"room": room.id, "entries": [e.to_json() for e in entries]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{room}/moderation/log", moderation_log)
    app.router.add_post("/api/rooms/{room}/moderation/{action}", moderate)
    app.router.add_delete("/api/rooms/{room}/messages/{message}", delete_message)
