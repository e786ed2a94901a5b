"""Reply types of the room retention script (``rooms_delete.lua``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from livecommerce.store.reply_fields import choice, integer, items


class RoomDelete(StrEnum):
    deleted = "deleted"
    no_room = "no_room"
    not_ended = "not_ended"
    too_recent = "too_recent"
    reservations_open = "reservations_open"
    outbox_pending = "outbox_pending"
    sales_changed = "sales_changed"


@dataclass(frozen=True)
class RoomsDeleteReply:
    """``rooms_delete``: what became of the room, and how many of its keys were deleted."""

    script: ClassVar[str] = "rooms_delete"
    outcome: RoomDelete
    deleted: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, deleted = items(cls.script, raw, 2)
        return cls(
            choice(cls.script, "outcome", outcome, RoomDelete),
            integer(cls.script, "deleted", deleted),
        )
