"""Moderation depth over HTTP: the review queue and its decisions, automod settings,
shield mode, and a user's card for the moderator console (docs/moderation.md)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from livecommerce.auth import Role, valid_identifier
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.moderation.automod import domain_form, term_form
from livecommerce.rooms.models import Room
from livecommerce.web.access import admits, caller, require_room_authority
from livecommerce.web.body import optional_int, read_json_object, reject_unknown, text_field
from livecommerce.web.query import int_param
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import AUTOMOD, CHAT, MODERATION, REVIEW, ROOMS, SETTINGS

MODERATORS = (Role.anchor, Role.moderator, Role.admin)
# A review item's id: a held message's "h<ms>-<seq>" or a reported chat message's id.
ITEM_ID = re.compile(r"h?[0-9]{1,20}-[0-9]{1,20}")
DOMAIN = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
MAX_TERM_CHARS = 64
MAX_QUEUE_LIMIT = 1000
AUTOMOD_FIELDS = {
    "level",
    "held_terms",
    "blocked_terms",
    "allowed_domains",
    "hold_links",
    "hold_contacts",
    "hold_first_time",
    "buyers_only",
}
DECISIONS = ("approve", "deny")
USER_CARD_MESSAGES = 200


async def _room(request: web.Request) -> Room:
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator, Role.admin)
    return room


@admits(*MODERATORS)
async def review_queue(request: web.Request) -> web.Response:
    """The room's review queue, oldest first (``?limit=``, default and most 1000)."""
    room = await _room(request)
    limit = int_param(request, "limit", 1, MAX_QUEUE_LIMIT, MAX_QUEUE_LIMIT)
    items = await request.app[REVIEW].queue(room.id, limit)
    return web.json_response({"room": room.id, "items": [item.to_json() for item in items]})


@admits(*MODERATORS)
async def decide(request: web.Request) -> web.Response:
    """Approve or deny one item: 200 with the decision, 404 when it is gone."""
    decision = request.match_info["decision"]
    if decision not in DECISIONS:
        raise ApiError(ErrorCode.not_found, "The decision is approve or deny.")
    room = await _room(request)
    item_id = request.match_info["message"]
    if ITEM_ID.fullmatch(item_id) is None:
        raise ApiError(ErrorCode.review_item_not_found, f"{item_id[:40]!r} is not a review id.")
    body = await read_json_object(request, allow_empty=True)
    reject_unknown(body, {"timeout_s"} if decision == "deny" else set())
    limits = request.app[SETTINGS].moderation
    timeout_s = optional_int(body, "timeout_s", 1, limits.max_duration_s) or 0
    principal = caller(request)
    result = await request.app[REVIEW].decide(
        room.id, item_id, decision, principal.user, principal.role.value, timeout_s
    )
    return web.json_response(
        {
            "room": room.id,
            "decision": decision,
            "item": result.item.to_json(),
            "chat_id": result.chat_id or None,
            "timeout_until": result.until_ms or None,
            "audit_id": result.audit_id,
        }
    )


@admits(*MODERATORS)
async def automod_settings(request: web.Request) -> web.Response:
    room = await _room(request)
    config = await request.app[AUTOMOD].config(room.id, fresh=True)
    return web.json_response({"room": room.id, "settings": config.to_json()})


def _flag(body: dict[str, Any], name: str, nullable: bool) -> bool | None:
    value = body[name]
    if isinstance(value, bool) or (value is None and nullable):
        return value
    kind = "true, false or null" if nullable else "true or false"
    raise ApiError(ErrorCode.invalid_field, f"Field {name!r} must be {kind}.", field=name)


def _terms(body: dict[str, Any], name: str, max_terms: int) -> tuple[str, ...]:
    value = body[name]
    if not isinstance(value, list) or len(value) > max_terms:
        raise ApiError(
            ErrorCode.invalid_field,
            f"Field {name!r} must be a list of at most {max_terms} strings.",
            field=name,
        )
    found: list[str] = []
    for index in range(len(value)):
        label = f"{name}[{index}]"
        raw = text_field({label: value[index]}, label, max_chars=MAX_TERM_CHARS, required=True)
        form = domain_form(raw) if name == "allowed_domains" else term_form(raw)
        if name == "allowed_domains" and DOMAIN.fullmatch(form) is None:
            raise ApiError(
                ErrorCode.invalid_field, f"{raw[:40]!r} in {name!r} is not a domain.", field=name
            )
        if not form:
            raise ApiError(ErrorCode.invalid_field, f"An item of {name!r} is empty.", field=name)
        if form not in found:
            found.append(form)
    return tuple(found)


def automod_changes(body: dict[str, Any], max_terms: int) -> dict[str, Any]:
    """The checked changes of an automod request (absent fields stay as they are)."""
    reject_unknown(body, AUTOMOD_FIELDS)
    if not body:
        raise ApiError(ErrorCode.missing_field, "Give at least one setting to change.")
    changes: dict[str, Any] = {}
    for name in sorted(body):
        if name == "level":
            changes[name] = optional_int(body, "level", 0, 3)
            if changes[name] is None:
                raise ApiError(ErrorCode.invalid_field, "Field 'level' must be 0 to 3.", field=name)
        elif name in ("held_terms", "blocked_terms", "allowed_domains"):
            changes[name] = _terms(body, name, max_terms)
        else:
            changes[name] = _flag(body, name, nullable=name in ("hold_links", "hold_contacts"))
    return changes


@admits(*MODERATORS)
async def change_automod(request: web.Request) -> web.Response:
    """Change some of the room's automod settings; 200 with all of them."""
    room = await _room(request)
    body = await read_json_object(request)
    changes = automod_changes(body, request.app[SETTINGS].moderation.max_terms)
    principal = caller(request)
    config, audit_id = await request.app[AUTOMOD].update(
        room.id, changes, principal.user, principal.role.value
    )
    return web.json_response({"room": room.id, "settings": config.to_json(), "audit_id": audit_id})


@admits(*MODERATORS)
async def shield(request: web.Request) -> web.Response:
    """Shield mode on or off (``{on}``); 200 with the settings now in force."""
    room = await _room(request)
    body = await read_json_object(request)
    reject_unknown(body, {"on"})
    if "on" not in body:
        raise ApiError(ErrorCode.missing_field, "Field 'on' is required.", field="on")
    on = _flag(body, "on", nullable=False)
    principal = caller(request)
    result = await request.app[AUTOMOD].shield(
        room.id, bool(on), principal.user, principal.role.value
    )
    return web.json_response(
        {
            "room": room.id,
            "shield": result.on,
            "changed": result.changed,
            "slow_mode_s": result.slow_mode_s,
            "settings": result.automod.to_json(),
            "audit_id": result.audit_id or None,
        }
    )


@admits(*MODERATORS)
async def user_card(request: web.Request) -> web.Response:
    """What a moderator needs to judge a user: their messages in the room's recent
    history, the audit entries about them, whether they bought here."""
    room = await _room(request)
    user = request.match_info["user"]
    if not valid_identifier(user):
        raise ApiError(ErrorCode.invalid_parameter, "That is not a user id.")
    recent = await request.app[CHAT].recent(room.id, USER_CARD_MESSAGES)
    log = await request.app[MODERATION].log(room.id, 1000)
    card = await request.app[REVIEW].user_facts(room.id, user)
    return web.json_response(
        {
            "room": room.id,
            "user": user,
            "messages": [m.to_frame() for m in recent if m.user == user][-50:],
            "actions": [entry.to_json() for entry in log if entry.target == user][:50],
            **card,
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{room}/review", review_queue)
    app.router.add_post("/api/rooms/{room}/review/{message}/{decision}", decide)
    app.router.add_get("/api/rooms/{room}/moderation/automod", automod_settings)
    app.router.add_post("/api/rooms/{room}/moderation/automod", change_automod)
    app.router.add_post("/api/rooms/{room}/moderation/shield", shield)
    app.router.add_get("/api/rooms/{room}/users/{user}", user_card)
