"""The funnel's steps and the counting of those without a script of their own:
impressions, entries and product views (``analytics_count.lua``)."""

from __future__ import annotations

from enum import StrEnum

from livecommerce.config import AnalyticsSettings
from livecommerce.context import StoreContext
from livecommerce.store.replies_analytics import AnalyticsCountReply, CountOutcome


class Step(StrEnum):
    """The funnel's steps, in order; each value is its field in the analytics hash."""

    impressions = "impressions"
    entries = "entries"
    product_views = "product_views"
    buy_attempts = "buy_attempts"
    reserved = "reserved"
    paid = "paid"


def visitor_id(user: str | None, address: str) -> str:
    """Whom a step counts once: the signed-in user, or ``~ADDRESS`` for an anonymous
    visitor (user ids start with a letter or digit, so the two never meet)."""
    return user if user else "~" + address


class FunnelCounter:
    """Counts impressions, entries and product views; each call is one atomic script that
    adds to the step's total and counts its visitor once."""

    def __init__(self, *, store: StoreContext, settings: AnalyticsSettings) -> None:
        self._keys = store.keys
        self._scripts = store.scripts
        self._settings = settings

    async def count(
        self, room_id: str, step: Step, visitor: str, product: str = ""
    ) -> CountOutcome:
        """Count one ``step`` by ``visitor``: ``no_room``, ``ended`` (nothing counted after
        the end) or ``no_product`` (a product the room does not have) when it cannot be.
        With analytics off nothing is written and the answer is ``counted``."""
        if not self._settings.enabled:
            return CountOutcome.counted
        keys = self._keys
        reply = await self._scripts.call(
            AnalyticsCountReply,
            [
                keys.room(room_id),
                keys.products(room_id),
                keys.analytics(room_id),
                keys.analytics_users(room_id, step.value),
                keys.analytics_hll(room_id, step.value),
            ],
            [step.value, visitor, product, self._settings.exact_users_max],
        )
        return reply.outcome
