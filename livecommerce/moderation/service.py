"""Moderation actions: each changes room state and appends to the audit log in one
atomic step (``moderation_act.lua``), then tells every node over the room bus."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from livecommerce.bus import ROOM_MUTE_TIMER, USER_MUTE_TIMER, Delivery, Timer
from livecommerce.config import ModerationSettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.decoding import decode_entries
from livecommerce.store.replies import ModerationActReply

BANNED_CLOSE_CODE = ErrorCode.banned.spec.close_code
UNTIL_UNMUTED = -1


class Action(StrEnum):
    mute_room = "mute-room"
    unmute_room = "unmute-room"
    mute_user = "mute-user"
    unmute_user = "unmute-user"
    ban = "ban"
    unban = "unban"
    slow_mode = "slow-mode"
    delete_message = "delete-message"


@dataclass(frozen=True)
class ModerationRequest:
    action: Action
    actor: str
    actor_role: str
    target: str = ""
    reason: str = ""
    duration_s: int = 0


@dataclass(frozen=True)
class ModerationState:
    """What a connecting client needs to know."""

    room_muted_until: int | None
    slow_mode_s: int
    muted_until: int | None
    banned: bool


@dataclass(frozen=True)
class AuditEntry:
    id: str
    actor: str
    actor_role: str
    action: str
    target: str
    reason: str
    duration_s: int
    until: int | None
    message: str = ""  # the review item an automod hold or a decision is about
    rule: str = ""  # the automod rule behind it

    @property
    def ts(self) -> int:
        return int(self.id.partition("-")[0])

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts,
            "actor": self.actor,
            "actor_role": self.actor_role,
            "action": self.action,
            "target": self.target or None,
            "reason": self.reason or None,
            "duration_s": self.duration_s or None,
            "until": self.until,
            "message": self.message or None,
            "rule": self.rule or None,
        }


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event_for(request: ModerationRequest, until: int) -> Delivery:
    """The bus delivery that tells every node (and client) what changed."""
    action = request.action
    if action is Action.mute_room:
        room_unmuted = {"type": "room_unmuted"} if until > 0 else None
        return Delivery(
            {"type": "room_muted", "until": None if until < 0 else until},
            timer=Timer(ROOM_MUTE_TIMER, at_ms=max(until, 0), then=room_unmuted),
        )
    if action is Action.unmute_room:
        return Delivery({"type": "room_unmuted"}, timer=Timer(ROOM_MUTE_TIMER))
    if action is Action.mute_user:
        return Delivery(
            {"type": "muted", "until": until},
            to=request.target,
            timer=Timer(USER_MUTE_TIMER, at_ms=until, then={"type": "unmuted"}),
        )
    if action is Action.unmute_user:
        return Delivery({"type": "unmuted"}, to=request.target, timer=Timer(USER_MUTE_TIMER))
    if action is Action.ban:
        return Delivery({"type": "banned"}, to=request.target, close_code=BANNED_CLOSE_CODE)
    if action is Action.unban:
        return Delivery({"type": "unbanned"}, to=request.target)
    if action is Action.slow_mode:
        return Delivery({"type": "slow_mode", "interval_s": request.duration_s})
    return Delivery({"type": "chat_deleted", "id": request.target})


class ModerationService:
    """Applies moderation actions and reads moderation state and the audit log."""

    def __init__(self, *, store: StoreContext, settings: ModerationSettings) -> None:
        self._actions = store.metrics.moderation_actions
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus
        self._settings = settings

    async def act(self, room_id: str, request: ModerationRequest) -> AuditEntry:
        """Apply the action atomically with its audit entry, then broadcast it."""
        keys = self._keys
        reply = await self._scripts.call(
            ModerationActReply,
            [
                keys.room_moderation(room_id),
                keys.room_mutes(room_id),
                keys.room_bans(room_id),
                keys.moderation_log(room_id),
                keys.chat_history(room_id),
            ],
            [
                request.action.value,
                request.actor,
                request.actor_role,
                request.target,
                request.reason,
                request.duration_s,
                self._settings.audit_log_size,
            ],
        )
        if reply.refusal is not None:
            if reply.refusal == "message_not_found":
                raise ApiError(ErrorCode.message_not_found, f"No message {request.target!r} here.")
            raise RuntimeError(f"moderation_act refused {request.action}: {reply.refusal}")
        until = reply.until_ms
        self._actions.inc(request.action.value)
        await self._bus.publish(room_id, _event_for(request, until))
        return AuditEntry(
            id=reply.audit_id,
            actor=request.actor,
            actor_role=request.actor_role,
            action=request.action.value,
            target=request.target,
            reason=request.reason,
            duration_s=request.duration_s,
            until=until or None,
        )

    async def state(self, room_id: str, user: str | None) -> ModerationState:
        """Room mute, slow mode and, for a signed-in user, their mute and ban."""
        keys = self._keys
        pipe = self._client.pipeline(transaction=False)
        pipe.hmget(keys.room_moderation(room_id), ["muted_until", "slow_mode_s"])
        if user is not None:
            pipe.hget(keys.room_mutes(room_id), user)
            pipe.hexists(keys.room_bans(room_id), user)
        results = await pipe.execute()
        muted_raw, slow_raw = results[0]
        now = _now_ms()
        room_until = int(muted_raw) if muted_raw is not None else 0
        room_muted: int | None = (
            room_until if room_until == UNTIL_UNMUTED or room_until > now else None
        )
        user_until: int | None = None
        banned = False
        if user is not None:
            value = int(results[1]) if results[1] is not None else 0
            user_until = value if value > now else None
            banned = bool(results[2])
        return ModerationState(room_muted, int(slow_raw or 0), user_until, banned)

    async def log(self, room_id: str, limit: int) -> list[AuditEntry]:
        """The latest ``limit`` audit entries, newest first."""
        reply = await self._client.xrevrange(self._keys.moderation_log(room_id), count=limit)
        result = []
        for entry_id, fields in decode_entries(reply):
            until = int(fields.get("until", "0"))
            result.append(
                AuditEntry(
                    id=entry_id,
                    actor=fields["actor"],
                    actor_role=fields["actor_role"],
                    action=fields["action"],
                    target=fields.get("target", ""),
                    reason=fields.get("reason", ""),
                    duration_s=int(fields.get("duration_s", "0")),
                    until=until or None,
                    message=fields.get("message", ""),
                    rule=fields.get("rule", ""),
                )
            )
        return result
