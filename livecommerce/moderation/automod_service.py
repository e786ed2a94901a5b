"""Automod per room: its settings in the store (read through a short per-node cache), the
gate every chat message passes before the chat script, settings changes and shield mode.

Guarantees: a settings change or shield switch is one atomic script with its audit
entry; every node applies it within ``moderation.settings_cache_s`` (0.5 s by default),
the time a node keeps a room's settings before reading them again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from livecommerce.bus import Delivery
from livecommerce.config import ModerationSettings
from livecommerce.context import StoreContext
from livecommerce.moderation.automod import AutomodConfig, hash_fields, screen_text
from livecommerce.store.replies_moderation import (
    ChatGate,
    ModerationAutomodReply,
    ModerationShieldReply,
)


@dataclass(frozen=True)
class ShieldResult:
    on: bool
    changed: bool
    slow_mode_s: int
    audit_id: str
    automod: AutomodConfig


class AutomodService:
    """Reads and changes rooms' automod settings; gives the chat path its gate."""

    def __init__(self, *, store: StoreContext, settings: ModerationSettings) -> None:
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus
        self._settings = settings
        self._cache: dict[str, tuple[float, AutomodConfig]] = {}

    async def config(self, room_id: str, *, fresh: bool = False) -> AutomodConfig:
        """The room's settings, at most ``settings_cache_s`` old unless ``fresh``."""
        now = time.monotonic()
        cached = self._cache.get(room_id)
        if cached is not None and cached[0] > now and not fresh:
            return cached[1]
        raw = await self._client.hgetall(self._keys.automod(room_id))
        fields = {_str(k): _str(v) for k, v in raw.items()}
        config = AutomodConfig.from_hash(fields, self._settings.default_automod_level)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[room_id] = (now + self._settings.settings_cache_s, config)
        return config

    def _room_keys(self, room_id: str) -> tuple[str, ...]:
        keys = self._keys
        slot = int(time.time() // self._settings.spam_window_s)
        return (
            keys.spam_slot(room_id, slot),
            keys.spam_slot(room_id, slot - 1),
            keys.chatters(room_id),
            keys.room_buyers(room_id),
            keys.review_index(room_id),
            keys.review_items(room_id),
            keys.moderation_log(room_id),
            keys.room_other_buyers(room_id),
        )

    async def gate(self, room_id: str, user: str, text: str, privileged: bool) -> ChatGate:
        """Automod's verdict for one message, as the chat script's extra keys and
        arguments: every rule is decided here or handed to the script (those needing
        the room's past). Raises ApiError ``blocked_term`` for a blocked term."""
        limits = self._settings
        common: dict[str, Any] = {
            "keys": self._room_keys(room_id),
            "spam_slot_ms": limits.spam_window_s * 1000,
            "review_ttl_ms": limits.review_ttl_s * 1000,
            "review_queue_size": limits.review_queue_size,
            "audit_log_size": limits.audit_log_size,
        }
        if privileged:
            return ChatGate(**common)
        config = await self.config(room_id)
        if not config.screens:
            return ChatGate(**common)
        verdict = screen_text(config, text, limits.copy_paste_min_chars)
        return ChatGate(
            **common,
            hold_rule=verdict.hold_rule,
            fingerprint=verdict.fingerprint,
            repeat_limit=limits.repeat_limit if verdict.fingerprint else 0,
            copy_paste_limit=limits.copy_paste_limit if verdict.copy_paste else 0,
            hold_first_time=config.first_time_held,
            buyers_only=config.buyers_only,
        )

    async def update(
        self, room_id: str, changes: dict[str, Any], actor: str, actor_role: str
    ) -> tuple[AutomodConfig, str]:
        """Apply ``changes`` (fields of :class:`AutomodConfig`; None returns a flag to the
        level's choice) with an audit entry; the new settings and the entry's id."""
        summary = json.dumps(changes, ensure_ascii=False, sort_keys=True)[:500]
        keys = self._keys
        reply = await self._scripts.call(
            ModerationAutomodReply,
            [keys.automod(room_id), keys.moderation_log(room_id)],
            [actor, actor_role, self._settings.audit_log_size, summary, *hash_fields(changes)],
        )
        config = await self.config(room_id, fresh=True)
        await self._announce(room_id, config)
        return config, reply.audit_id

    async def shield(self, room_id: str, on: bool, actor: str, actor_role: str) -> ShieldResult:
        """Shield mode on (save the settings, apply the preset) or off (restore them)."""
        limits = self._settings
        keys = self._keys
        preset = {"hold_links": True, "hold_contacts": True, "hold_first_time": True}
        if limits.shield_buyers_only:
            preset["buyers_only"] = True
        reply = await self._scripts.call(
            ModerationShieldReply,
            [keys.automod(room_id), keys.room_moderation(room_id), keys.moderation_log(room_id)],
            [
                "1" if on else "0",
                actor,
                actor_role,
                limits.audit_log_size,
                limits.shield_level,
                limits.shield_slow_mode_s,
                *hash_fields(preset),
            ],
        )
        config = await self.config(room_id, fresh=True)
        if reply.changed:
            await self._bus.publish(room_id, {"type": "slow_mode", "interval_s": reply.slow_mode_s})
            await self._bus.publish(room_id, {"type": "shield", "on": on})
            await self._announce(room_id, config)
        return ShieldResult(on, reply.changed, reply.slow_mode_s, reply.audit_id, config)

    async def _announce(self, room_id: str, config: AutomodConfig) -> None:
        await self._bus.publish(
            room_id, Delivery({"type": "automod", "settings": config.to_json()}, staff=True)
        )


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
