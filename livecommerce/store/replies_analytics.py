"""What the analytics scripts answer (``analytics_count``, ``analytics_watch``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from livecommerce.store.reply_fields import choice, integer, items


class CountOutcome(StrEnum):
    counted = "counted"
    no_room = "no_room"
    ended = "ended"
    no_product = "no_product"


@dataclass(frozen=True)
class AnalyticsCountReply:
    """``analytics_count``: whether the step was counted, or why not."""

    script: ClassVar[str] = "analytics_count"
    outcome: CountOutcome

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(choice(cls.script, "outcome", raw, CountOutcome))


class WatchOutcome(StrEnum):
    counted = "counted"
    ended = "ended"


@dataclass(frozen=True)
class AnalyticsWatchReply:
    """``analytics_watch``: whether watch time was credited (not for an ended room), and
    to how many segments."""

    script: ClassVar[str] = "analytics_watch"
    outcome: WatchOutcome
    credited: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, credited = items(cls.script, raw, 2)
        return cls(
            choice(cls.script, "outcome", outcome, WatchOutcome),
            integer(cls.script, "credited", credited),
        )
