"""Chat: checked, stored in the room's capped history, then published on the bus."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from livecommerce.bus import Delivery
from livecommerce.channel.text import folded
from livecommerce.config import ChannelSettings, DiscoverySettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.decoding import StreamEntry, decode_entries
from livecommerce.store.replies import ChatPostReply, ChatRefusal
from livecommerce.store.replies_moderation import ChatGate, ReviewItem

STREAM_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
REFUSALS = {
    ChatRefusal.banned: ErrorCode.banned,
    ChatRefusal.room_muted: ErrorCode.room_muted,
    ChatRefusal.muted: ErrorCode.muted,
    ChatRefusal.slow_mode: ErrorCode.slow_mode,
    ChatRefusal.rate_limited: ErrorCode.rate_limited,
    ChatRefusal.buyers_only: ErrorCode.buyers_only,
}


class ChatGatekeeper(Protocol):
    """Automod (livecommerce/moderation/automod_service.py), as the chat path sees it."""

    async def gate(self, room_id: str, user: str, text: str, privileged: bool) -> ChatGate:
        """Every rule's verdict on the message, as the chat script's extra keys and
        arguments; raises ApiError for a message refused outright (a blocked term)."""
        ...


def valid_message_id(value: str) -> bool:
    """Message ids are the history stream's entry ids: ``<ms>-<seq>``."""
    return STREAM_ID.fullmatch(value) is not None


def message_id_order(message_id: str) -> tuple[int, int]:
    ms, _, seq = message_id.partition("-")
    return int(ms), int(seq)


@dataclass(frozen=True)
class ChatMessage:
    id: str
    user: str
    role: str
    text: str

    @property
    def ts(self) -> int:
        """Milliseconds since the epoch, from the id the store assigned."""
        return message_id_order(self.id)[0]

    def to_frame(self) -> dict[str, Any]:
        return {
            "type": "chat",
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "text": self.text,
            "ts": self.ts,
        }

    @classmethod
    def from_entry(cls, entry: StreamEntry) -> ChatMessage:
        entry_id, fields = entry
        return cls(entry_id, fields["user"], fields.get("role", "viewer"), fields["text"])


class ChatService:
    """Posting and reading a room's chat."""

    def __init__(
        self,
        *,
        store: StoreContext,
        settings: ChannelSettings,
        discovery: DiscoverySettings,
        gatekeeper: ChatGatekeeper,
    ) -> None:
        self._posted = store.metrics.chat_messages
        self._refused = store.metrics.chat_refused
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus
        self._settings = settings
        self._discovery = discovery
        self._gatekeeper = gatekeeper
        self._blocked = [folded(term) for term in settings.blocked_terms]

    def blocked_term_in(self, text: str) -> str | None:
        """The first blocked term in ``text``, compared as :func:`folded` says."""
        plain = folded(text)
        return next((term for term in self._blocked if term in plain), None)

    async def post(
        self, room_id: str, user: str, role: str, text: str, privileged: bool
    ) -> ChatMessage | None:
        """Store and broadcast a message; ApiError (banned, muted, slow_mode, …) if refused;
        None when automod held it for review (its author and the staff are told)."""
        if self.blocked_term_in(text) is not None:
            self._refused.inc(ErrorCode.blocked_term.name)
            raise ApiError(ErrorCode.blocked_term)
        gate = await self._gatekeeper.gate(room_id, user, text, privileged)
        keys = self._keys
        reply = await self._scripts.call(
            ChatPostReply,
            [
                keys.chat_history(room_id),
                keys.chat_buckets(room_id),
                keys.chat_last_post(room_id),
                keys.room_counters(room_id),
                keys.room_moderation(room_id),
                keys.room_mutes(room_id),
                keys.room_bans(room_id),
                keys.room_engagement(room_id),
                *gate.keys,
            ],
            [
                user,
                role,
                text,
                "1" if privileged else "0",
                self._settings.chat_burst,
                self._settings.chat_per_s,
                self._settings.history_size,
                self._discovery.bucket_ms,
                self._discovery.buckets,
                *gate.args(),
                int(self._settings.chat_idle_ttl_s * 1000),
            ],
        )
        if reply.refusal is not None:
            code = REFUSALS[reply.refusal]
            self._refused.inc(code.name)
            details: dict[str, Any] = {"until": reply.at_ms} if reply.at_ms > 0 else {}
            raise ApiError(code, **details)
        if reply.held_rule:
            await self._announce_held(
                room_id,
                ReviewItem(
                    reply.message_id,
                    user,
                    role,
                    text,
                    reply.held_rule,
                    "automod",
                    reply.at_ms,
                    visible=False,
                    reports=0,
                    reasons=(),
                ),
            )
            return None
        message = ChatMessage(reply.message_id, user, role, text)
        self._posted.inc()
        await self._bus.publish(room_id, message.to_frame())
        return message

    async def _announce_held(self, room_id: str, item: ReviewItem) -> None:
        held = {"type": "chat_held", "id": item.id, "text": item.text, "ts": item.ts}
        await self._bus.publish(room_id, Delivery({**held, "rule": item.rule}, to=item.user))
        await self._bus.publish(
            room_id, Delivery({"type": "review", "message": item.to_json()}, staff=True)
        )

    async def recent(self, room_id: str, count: int) -> list[ChatMessage]:
        """The last ``count`` messages, oldest first."""
        if count <= 0:
            return []
        reply = await self._client.xrevrange(self._keys.chat_history(room_id), count=count)
        return [ChatMessage.from_entry(entry) for entry in reversed(decode_entries(reply))]

    async def since(self, room_id: str, last_id: str, limit: int) -> list[ChatMessage] | None:
        """Messages after ``last_id`` (oldest first), or None when history no longer reaches it."""
        key = self._keys.chat_history(room_id)
        oldest = decode_entries(await self._client.xrange(key, count=1))
        if oldest and message_id_order(oldest[0][0]) > message_id_order(last_id):
            return None
        entries = decode_entries(await self._client.xrange(key, min=f"({last_id}", count=limit + 1))
        if len(entries) > limit:
            return None
        return [ChatMessage.from_entry(entry) for entry in entries]
