"""The key schema: every store key is built here and nowhere else.

All keys start with the configured prefix (``lc:`` in production; tests use
``lc:t-<id>:`` so each test has its own key space on one shared server).
Keys of one room share the hash tag ``{r:ROOM}``, so every Lua script that
touches a room's keys runs unchanged on a cluster (one slot per room).

| key                         | type | contents                                       | expiry |
|-----------------------------|------|------------------------------------------------|--------|
| ``P{r:ROOM}:room``          | hash | room fields: id, title, description, anchor,   | none   |
|                             |      | status, created_at, started_at, ended_at (ms)  |        |
| ``Prooms``                  | zset | every room id, scored by created_at (ms)       | none   |
| ``Prooms:live``             | zset | ids of live rooms, scored by started_at (ms)   | none   |
| ``P{r:ROOM}:chat``          | stream | chat history: user, role, text; entry id = the | none   |
|                             |      | message id; capped (MAXLEN ~ channel.history)  |        |
| ``P{r:ROOM}:chat:bucket``   | hash | per-user chat token bucket: user → "tokens:ms" | 1 h    |
| ``P{r:ROOM}:chat:last``     | hash | per-user time of the last message (slow mode)  | 1 h    |
| ``P{r:ROOM}:counters``      | hash | chat_messages, likes, peak_viewers             | none   |
| ``P{r:ROOM}:presence``      | hash | node id → "count:expires_ms"; stale fields are | none   |
|                             |      | ignored and removed when counted               |        |
| ``P{r:ROOM}:mod``           | hash | muted_until (ms, -1 = until unmuted),          | none   |
|                             |      | slow_mode_s                                    |        |
| ``P{r:ROOM}:mutes``         | hash | user → muted until (ms)                        | none   |
| ``P{r:ROOM}:bans``          | hash | user → banned at (ms)                          | none   |
| ``P{r:ROOM}:audit``         | stream | moderation log: actor, actor_role, action,   | none   |
|                             |      | target, reason, duration_s; capped             |        |

Shard pub/sub channels (not keys, same naming and hash tag):

| channel                     | carries                                               |
|-----------------------------|-------------------------------------------------------|
| ``P{r:ROOM}:events``        | the room's events, msgpack maps with a ``type``       |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Builds store keys under one prefix."""

    prefix: str = "lc:"

    @staticmethod
    def room_tag(room_id: str) -> str:
        """The hash tag all of a room's keys share."""
        return "{r:" + room_id + "}"

    def room(self, room_id: str) -> str:
        """Hash of the room's fields."""
        return f"{self.prefix}{self.room_tag(room_id)}:room"

    def rooms_index(self) -> str:
        """Sorted set of every room id by creation time (ms)."""
        return f"{self.prefix}rooms"

    def rooms_live(self) -> str:
        """Sorted set of live room ids by the time they went live (ms)."""
        return f"{self.prefix}rooms:live"

    def room_events(self, room_id: str) -> str:
        """Shard pub/sub channel of the room's events."""
        return f"{self.prefix}{self.room_tag(room_id)}:events"

    def chat_history(self, room_id: str) -> str:
        """Stream of the room's chat messages (entry id = message id)."""
        return f"{self.prefix}{self.room_tag(room_id)}:chat"

    def chat_buckets(self, room_id: str) -> str:
        """Hash of per-user chat rate-limit buckets."""
        return f"{self.prefix}{self.room_tag(room_id)}:chat:bucket"

    def chat_last_post(self, room_id: str) -> str:
        """Hash of per-user last message times, for slow mode."""
        return f"{self.prefix}{self.room_tag(room_id)}:chat:last"

    def room_counters(self, room_id: str) -> str:
        """Hash of the room's counters (chat messages, likes, peak viewers)."""
        return f"{self.prefix}{self.room_tag(room_id)}:counters"

    def room_presence(self, room_id: str) -> str:
        """Hash of viewer counts per node, each with its expiry."""
        return f"{self.prefix}{self.room_tag(room_id)}:presence"

    def room_moderation(self, room_id: str) -> str:
        """Hash of room-wide moderation state (mute, slow mode)."""
        return f"{self.prefix}{self.room_tag(room_id)}:mod"

    def room_mutes(self, room_id: str) -> str:
        """Hash of muted users and when their mute ends."""
        return f"{self.prefix}{self.room_tag(room_id)}:mutes"

    def room_bans(self, room_id: str) -> str:
        """Hash of banned users."""
        return f"{self.prefix}{self.room_tag(room_id)}:bans"

    def moderation_log(self, room_id: str) -> str:
        """Stream of the room's moderation actions (the audit log)."""
        return f"{self.prefix}{self.room_tag(room_id)}:audit"
