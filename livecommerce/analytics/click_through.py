"""Click-through: of the visitors a room's card was shown to (impressions), how many
entered the room. Entries by direct link (no impression by that visitor) are counted
apart, so the rate is a share of the impressions and never exceeds 1.

The visitors who entered after an impression are the intersection of the two steps'
visitors, read when the report is built (nothing is written for it):

- both steps in exact sets: ``SINTERCARD``, exact;
- both in HyperLogLogs: ``|A| + |B| - |A ∪ B|`` (one ``PFCOUNT`` of both), an estimate;
- one of each: the smaller of the two counts, an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livecommerce.analytics.funnel import Step
from livecommerce.store.client import StoreClient
from livecommerce.store.keys import Keys


@dataclass(frozen=True)
class Clicked:
    """Visitors who entered after an impression; ``exact`` when both steps are exact sets."""

    users: int
    exact: bool


async def read_clicked(
    client: StoreClient, keys: Keys, room_id: str, users: dict[Step, tuple[int, bool]]
) -> Clicked:
    """The visitors counted in both ``impressions`` and ``entries`` (``users`` as the report
    read them: (visitors, exact) per step)."""
    (shown, shown_exact), (entered, entered_exact) = users[Step.impressions], users[Step.entries]
    if not shown or not entered:
        return Clicked(0, shown_exact and entered_exact)
    if shown_exact and entered_exact:
        both = await client.sintercard(
            2,
            [
                keys.analytics_users(room_id, Step.impressions.value),
                keys.analytics_users(room_id, Step.entries.value),
            ],
        )
        return Clicked(int(both), True)
    if not shown_exact and not entered_exact:
        union = await client.pfcount(
            keys.analytics_hll(room_id, Step.impressions.value),
            keys.analytics_hll(room_id, Step.entries.value),
        )
        estimate = shown + entered - int(union)
        return Clicked(max(0, min(estimate, shown, entered)), False)
    return Clicked(min(shown, entered), False)


def click_through(funnel: dict[str, dict[str, Any]], clicked: Clicked) -> dict[str, Any]:
    """The report's ``click_through``: impressions' and entries' visitors, those of the
    entries who had an impression (``from_impressions``) and the others (``direct``), and
    ``rate`` = from_impressions / impressions (0 without impressions)."""
    shown = funnel[Step.impressions.value]["users"]
    entered = funnel[Step.entries.value]["users"]
    followed = min(clicked.users, shown, entered)
    return {
        "impressions": shown,
        "entries": entered,
        "from_impressions": followed,
        "direct": entered - followed,
        "rate": round(followed / shown, 4) if shown else 0.0,
        "exact": clicked.exact,
    }
