"""The key schema: every store key is built here and nowhere else.

All keys start with the configured prefix (``lc:`` in production; tests use
``lc:t-<id>:`` so each test has its own key space on one shared server).
Keys of one room share the hash tag ``{r:ROOM}``, so every Lua script that
touches a room's keys runs unchanged on a cluster (one slot per room).

| key                         | type | contents                                       | expiry |
|-----------------------------|------|------------------------------------------------|--------|
| ``P{r:ROOM}:room``          | hash | room fields: id, title, description, anchor,   | none   |
|                             |      | status, created_at, started_at, ended_at (ms); |        |
|                             |      | while live: live_session, origin (node URL),   |        |
|                             |      | live_until (ms, pushed by the origin's beat)   |        |
| ``Prooms``                  | zset | every room id, scored by created_at (ms)       | none   |
| ``Prooms:live``             | zset | ids of live rooms, scored by started_at (ms)   | none   |

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
