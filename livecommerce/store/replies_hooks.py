"""Reply types of the hook dispatcher's group script (``hooks_groups.lua``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from livecommerce.store.reply_fields import ReplyError, choice, items, shown, text


class GroupsOutcome(StrEnum):
    ok = "ok"
    no_room = "no_room"


@dataclass(frozen=True)
class HooksGroupsReply:
    """``hooks_groups``: whether the room exists (no group is created for a room that does
    not), and the errors of groups that could not be created."""

    script: ClassVar[str] = "hooks_groups"
    outcome: GroupsOutcome
    errors: list[str]

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, errors = items(cls.script, raw, 2)
        if not isinstance(errors, list):
            raise ReplyError(f"{cls.script}: errors must be a list, got {shown(errors)}")
        return cls(
            choice(cls.script, "outcome", outcome, GroupsOutcome),
            [text(cls.script, "error", error) for error in errors],
        )
