"""The analytics a node offers: counting the steps without a script of their own, watch
time, pins on the time axis, the report (live, or frozen at the end) and daily active
buyers over a range."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from typing import Any

from livecommerce.analytics.funnel import FunnelCounter, Step, visitor_id
from livecommerce.analytics.report import ReportReader
from livecommerce.analytics.watch import WatchTracker
from livecommerce.config import AnalyticsSettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.keys import ANALYTICS_STEPS
from livecommerce.store.replies_analytics import CountOutcome

# Pins kept on a room's time axis (the newest).
MAX_PINS = 500
# GET /api/stats/dab?from=…&to=… reads at most this many days.
MAX_DAB_DAYS = 366
# The parts of an ended room's report that may still change (payments of reservations
# taken during the live): the stored report is rewritten when one did.
CHANGING = ("funnel", "formats", "products")
REFUSALS = {
    CountOutcome.no_room: ErrorCode.room_not_found,
    CountOutcome.ended: ErrorCode.room_ended,
    CountOutcome.no_product: ErrorCode.product_not_found,
}


class Analytics:
    """Seller analytics on the store (see docs/analytics.md)."""

    def __init__(self, *, store: StoreContext, settings: AnalyticsSettings) -> None:
        self._client = store.client
        self._keys = store.keys
        self._settings = settings
        self.funnel = FunnelCounter(store=store, settings=settings)
        self.watch = WatchTracker(
            store=store, interval_s=settings.watch_interval_s, enabled=settings.enabled
        )
        self._reader = ReportReader(store=store)

    def start(self) -> None:
        self.watch.start()

    async def stop(self) -> None:
        await self.watch.stop()

    async def impression(self, room_id: str, user: str | None, address: str) -> None:
        """Count a room card shown on the home page; ApiError for no room or an ended one."""
        await self._count(room_id, Step.impressions, visitor_id(user, address))

    async def entered(self, room_id: str, user: str | None, address: str) -> None:
        """A viewer joined the room's channel (not its anchor or staff): an entry, and the
        start of its watch time."""
        self.watch.joined(room_id, user)
        await self.funnel.count(room_id, Step.entries, visitor_id(user, address))

    def left(self, room_id: str, user: str | None) -> None:
        """A viewer's socket of the room closed."""
        self.watch.left(room_id, user)

    async def viewed(self, room_id: str, user: str | None, address: str, product: str) -> None:
        """A viewer opened a product card; ApiError product_not_found for another room's."""
        await self._count(room_id, Step.product_views, visitor_id(user, address), product)

    async def _count(self, room_id: str, step: Step, visitor: str, product: str = "") -> None:
        outcome = await self.funnel.count(room_id, step, visitor, product)
        if outcome in REFUSALS:
            raise ApiError(REFUSALS[outcome])

    async def mark_pin(self, room_id: str, product_id: str) -> None:
        """Put a pin on the room's time axis (the newest ``MAX_PINS`` are kept)."""
        if not self._settings.enabled:
            return
        now = int(time.time() * 1000)
        key = self._keys.analytics_marks(room_id)
        pipe = self._client.pipeline(transaction=False)
        pipe.zadd(key, {f"pin:{product_id}:{now}": now})
        pipe.zremrangebyrank(key, 0, -MAX_PINS - 1)
        await pipe.execute()

    async def report(self, room_id: str) -> dict[str, Any]:
        """The room's report: live while the room is; once it ended, the frozen report
        (refreshed from the live data while that is kept, so payments of reservations
        taken during the live still count). ApiError room_not_found."""
        report = await self._reader.build(room_id)
        if report is None:
            raise ApiError(ErrorCode.room_not_found)
        if report["status"] != "ended":
            return report
        stored = await self.frozen_report(room_id)
        if stored and not await self._reader.has_live_data(room_id):
            return stored
        report["frozen"] = True
        if not stored or any(stored.get(part) != report[part] for part in CHANGING):
            await self._store_report(room_id, report)
        return report

    async def frozen_report(self, room_id: str) -> dict[str, Any] | None:
        """The report frozen when the room ended, if it is still kept (it outlives the
        room: ``analytics.report_retention_days``); its ``anchor`` names the room's
        anchor, for the role check of a room that no longer exists."""
        stored = await self._client.get(self._keys.analytics_report(room_id))
        if not stored:
            return None
        frozen: dict[str, Any] = json.loads(stored)
        return frozen

    async def freeze_if_missing(self, room_id: str) -> None:
        """Freeze the ended room's report unless it is frozen already: the retention sweep
        calls this before deleting a room, so a report survives a node that died (or a
        sweep that ran) between the room's end and its freezing."""
        if not await self._client.exists(self._keys.analytics_report(room_id)):
            await self.freeze(room_id)

    async def freeze(self, room_id: str) -> None:
        """Freeze the ended room's report (kept ``report_retention_days``) and give its
        live data an expiry (``live_retention_days``)."""
        await self.watch.flush()
        report = await self._reader.build(room_id)
        if report is None or report["status"] != "ended":
            return
        report["frozen"] = True
        await self._store_report(room_id, report)
        keys = self._keys
        live_ms = int(self._settings.live_retention_days * 86_400_000)
        pipe = self._client.pipeline(transaction=False)
        for key in (
            keys.analytics(room_id),
            keys.room_watch(room_id),
            keys.watch_spans(room_id),
            keys.analytics_marks(room_id),
            *(keys.analytics_users(room_id, step) for step in ANALYTICS_STEPS),
            *(keys.analytics_hll(room_id, step) for step in ANALYTICS_STEPS),
        ):
            pipe.pexpire(key, live_ms)
        await pipe.execute()

    async def _store_report(self, room_id: str, report: dict[str, Any]) -> None:
        await self._client.set(
            self._keys.analytics_report(room_id),
            json.dumps(report, separators=(",", ":")),
            px=int(self._settings.report_retention_days * 86_400_000),
        )

    async def daily_active_buyers(
        self, first: datetime.date, last: datetime.date
    ) -> list[dict[str, Any]]:
        """One row per day from ``first`` to ``last`` (UTC days, both included); ApiError
        invalid_parameter for a reversed range or more than ``MAX_DAB_DAYS`` days."""
        days = (last - first).days + 1
        if days < 1:
            raise ApiError(ErrorCode.invalid_parameter, "from must not be after to.")
        if days > MAX_DAB_DAYS:
            raise ApiError(
                ErrorCode.invalid_parameter, f"A range holds at most {MAX_DAB_DAYS} days."
            )
        dates = [(first + datetime.timedelta(days=n)).isoformat() for n in range(days)]
        # PFCOUNT may not be pipelined on a cluster: EXISTS in one pipeline, then one
        # PFCOUNT per day that has buyers.
        pipe = self._client.pipeline(transaction=False)
        for day in dates:
            pipe.exists(self._keys.daily_buyers(day))
        present = await pipe.execute()
        counted = [day for day, found in zip(dates, present, strict=True) if found]
        estimates = await asyncio.gather(
            *(self._client.pfcount(self._keys.daily_buyers(day)) for day in counted)
        )
        counts = dict(zip(counted, estimates, strict=True))
        return [{"date": day, "daily_active_buyers": int(counts.get(day, 0))} for day in dates]
