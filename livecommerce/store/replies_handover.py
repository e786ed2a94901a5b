"""Reply type of the media handover script (``rooms_hand_over.lua``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from livecommerce.store.reply_fields import code


class HandOver(IntEnum):
    handed_over = 1
    not_this_session = 0
    no_room = -1


@dataclass(frozen=True)
class RoomsHandOverReply:
    """``rooms_hand_over``: whether the room now waits, live, for its anchor elsewhere."""

    script: ClassVar[str] = "rooms_hand_over"
    outcome: HandOver

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(code(cls.script, raw, HandOver))
