"""Discovery: live rooms ranked by how engaging they are right now, per viewer.

The scripts that record a viewer's chat message (``chat_post``), a batch of
likes (``likes_add``) and an order (``sales_reserve``) also count it in the
room's engagement hash, one field per kind and time slot, in the same atomic
step. This module sums those counts over the window for many rooms in one
round trip (``discovery_counts``, in the store) and scores them with a pure
function, so every ranking can be explained from the parts it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from livecommerce.config import DiscoverySettings
from livecommerce.context import StoreContext
from livecommerce.rooms.models import Room
from livecommerce.store.replies import DiscoveryCountsReply

# Scores are rounded before ranking, so two rooms that show the same score are
# ordered by the documented tie-breaks rather than by invisible float noise.
SCORE_DIGITS = 4


@dataclass(frozen=True)
class Engagement:
    """What happened in a room over the window: viewers' messages, likes, orders."""

    chat: int = 0
    likes: int = 0
    orders: int = 0


def score(engagement: Engagement, viewers: int, settings: DiscoverySettings) -> float:
    """Weighted activity per viewer, the viewer count smoothed by ``viewer_smoothing``."""
    weighted = (
        settings.chat_weight * engagement.chat
        + settings.like_weight * engagement.likes
        + settings.order_weight * engagement.orders
    )
    return round(weighted / (max(viewers, 0) + settings.viewer_smoothing), SCORE_DIGITS)


@dataclass(frozen=True)
class RankedRoom:
    room: Room
    viewers: int
    engagement: Engagement
    score: float

    def discovery_json(self, window_s: int) -> dict[str, Any]:
        """The score and the parts it was computed from."""
        return {
            "score": self.score,
            "chat": self.engagement.chat,
            "likes": self.engagement.likes,
            "orders": self.engagement.orders,
            "viewers": self.viewers,
            "window_s": window_s,
        }


def rank(
    rooms: Sequence[Room],
    viewers: Sequence[int],
    engagement: Sequence[Engagement],
    settings: DiscoverySettings,
) -> list[RankedRoom]:
    """Highest score first; ties go to more viewers, then to the room that went live last."""
    ranked = [
        RankedRoom(room, count, parts, score(parts, count, settings))
        for room, count, parts in zip(rooms, viewers, engagement, strict=True)
    ]
    ranked.sort(key=lambda r: (-r.score, -r.viewers, -(r.room.started_at or 0), r.room.id))
    return ranked


class Discovery:
    """Reads rooms' engagement counts and ranks live rooms by them."""

    def __init__(self, *, store: StoreContext, settings: DiscoverySettings) -> None:
        self._keys = store.keys
        self._scripts = store.scripts
        self._settings = settings

    @property
    def window_s(self) -> int:
        return self._settings.window_s

    async def engagement(self, room_ids: Sequence[str]) -> list[Engagement]:
        """Each room's counts over the window, summed in the store, in one round trip.

        The window ends at the store's clock, which also stamped the events, so
        nodes with skewed clocks agree.
        """
        if not room_ids:
            return []
        args = [self._settings.bucket_ms, self._settings.buckets]
        calls = [([self._keys.room_engagement(room_id)], args) for room_id in room_ids]
        answers = await self._scripts.call_many(DiscoveryCountsReply, calls)
        return [Engagement(answer.chat, answer.likes, answer.orders) for answer in answers]

    async def rank(self, rooms: Sequence[Room], viewers: Sequence[int]) -> list[RankedRoom]:
        """The rooms ranked by engagement per viewer (``viewers`` in the same order)."""
        counts = await self.engagement([room.id for room in rooms])
        return rank(rooms, viewers, counts, self._settings)
