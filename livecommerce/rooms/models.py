"""The room record as the rest of the server sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from livecommerce.store.decoding import as_text


class RoomStatus(StrEnum):
    scheduled = "scheduled"
    live = "live"
    ended = "ended"


@dataclass(frozen=True)
class Room:
    id: str
    title: str
    description: str
    anchor: str
    status: RoomStatus
    created_at: int
    started_at: int | None = None
    ended_at: int | None = None
    cover_url: str = ""
    # While live (internal, not in to_json): the node serving the stream, its media
    # session, and until when its heartbeat vouches for it (ms).
    origin: str | None = None
    live_session: str | None = None
    live_until: int | None = None

    @classmethod
    def from_hash(cls, fields: Mapping[bytes | str, bytes | str]) -> Room:
        """Decode the store's hash (bytes → typed fields)."""
        text = {as_text(k): as_text(v) for k, v in fields.items()}

        def optional_int(name: str) -> int | None:
            return int(text[name]) if text.get(name) else None

        return cls(
            id=text["id"],
            title=text["title"],
            description=text.get("description", ""),
            anchor=text["anchor"],
            status=RoomStatus(text["status"]),
            created_at=int(text["created_at"]),
            started_at=optional_int("started_at"),
            ended_at=optional_int("ended_at"),
            cover_url=text.get("cover_url", ""),
            origin=text.get("origin") or None,
            live_session=text.get("live_session") or None,
            live_until=optional_int("live_until"),
        )

    def to_json(self) -> dict[str, Any]:
        """The public representation (timestamps in milliseconds since the epoch)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "anchor": self.anchor,
            "status": self.status.value,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "cover_url": self.cover_url or None,
        }
