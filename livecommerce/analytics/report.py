"""The room's analytics read from the store: the report the API and the dashboard show.

One pipeline reads the room, its analytics hash (funnel totals, per-product counts,
10 s series), each step's visitors, watch spans, counters (peak, GMV), pins, sales and
products; everything else is arithmetic here. See docs/analytics.md for each field.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

from livecommerce.analytics.click_through import Clicked, click_through, read_clicked
from livecommerce.analytics.formats import (
    FormatsData,
    format_markers,
    formats_report,
    read_formats,
    source_rows,
)
from livecommerce.analytics.funnel import Step
from livecommerce.context import StoreContext
from livecommerce.store.decoding import as_text

SLOT_MS = 10_000
# The HyperLogLog's standard error (Redis/Valkey: 16384 registers, 1.04 / sqrt(16384)).
HLL_STANDARD_ERROR = 0.0081
GMV_PREFIX = "gmv_cents:"
# A room's charts stop after this many 10 s slots (a day), whatever the store holds.
MAX_SLOTS = 8640
SALE_FIELDS = ("product_id", "starts_at", "ends_at", "stopped_at")
# Steps whose visitors hold the next step's: a reserver attempted, a payer reserved.
BUY_STEPS = (Step.buy_attempts, Step.reserved)


@dataclass(frozen=True)
class RoomData:
    """What the store holds for a room; ``counts`` is its analytics hash, with the
    "q:PRODUCT:SLOT:STEP" fields summed into "p:PRODUCT:STEP" and "t:SLOT:STEP" ones."""

    room: dict[str, str]
    counts: dict[str, int]
    users: dict[Step, tuple[int, bool]]  # (visitors, exact)
    spans_ms: list[int]
    counters: dict[str, int]
    pins: list[tuple[str, int]]
    sales: list[dict[str, str]]
    products: dict[str, dict[str, Any]]
    now_ms: int
    formats: FormatsData = dataclasses.field(default_factory=FormatsData)
    clicked: Clicked = dataclasses.field(default_factory=lambda: Clicked(0, True))


class ReportReader:
    """Builds a room's report from its live data in the store."""

    def __init__(self, *, store: StoreContext) -> None:
        self._client = store.client
        self._keys = store.keys

    async def has_live_data(self, room_id: str) -> bool:
        return bool(await self._client.exists(self._keys.analytics(room_id)))

    async def build(self, room_id: str) -> dict[str, Any] | None:
        """The report of the room as the store holds it now; None when there is no room."""
        raw = await self._read(room_id)
        if raw is None:
            return None
        return compose(room_id, raw)

    async def _read(self, room_id: str) -> RoomData | None:
        keys = self._keys
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(keys.room(room_id))
        pipe.hgetall(keys.analytics(room_id))
        for step in Step:
            if step is Step.reserved:
                pipe.scard(keys.room_buyers(room_id))
                pipe.exists(keys.room_buyers(room_id))
            else:
                pipe.scard(keys.analytics_users(room_id, step.value))
                # PFCOUNT may not be pipelined on a cluster: EXISTS here, PFCOUNT below.
                pipe.exists(keys.analytics_hll(room_id, step.value))
        pipe.hvals(keys.watch_spans(room_id))
        pipe.hgetall(keys.room_counters(room_id))
        pipe.zrange(keys.analytics_marks(room_id), 0, -1, withscores=True)
        pipe.zrange(keys.sales(room_id), 0, -1)
        pipe.hgetall(keys.products(room_id))
        answers = await pipe.execute()
        room_raw, counts_raw, *rest = answers
        if not room_raw:
            return None
        users: dict[Step, tuple[int, bool]] = {}
        for n, step in enumerate(Step):
            exact_count, other = int(rest[2 * n]), int(rest[2 * n + 1])
            if step is Step.reserved:
                users[step] = (exact_count, True)
            elif other:
                estimate = int(await self._client.pfcount(keys.analytics_hll(room_id, step.value)))
                users[step] = (exact_count + estimate, estimate == 0)
            else:
                users[step] = (exact_count, True)
        spans_raw, counters_raw, pins_raw, sale_ids, products_raw = rest[2 * len(Step) :]
        sales = await self._sales(room_id, [as_text(s) for s in sale_ids])
        formats = await read_formats(self._client, keys, room_id)
        clicked = await read_clicked(self._client, keys, room_id, users)
        return RoomData(
            room={as_text(k): as_text(v) for k, v in room_raw.items()},
            counts=spread_slots({as_text(k): int(v) for k, v in counts_raw.items()}),
            users=users,
            spans_ms=[int(as_text(v).split(":", 1)[0]) for v in spans_raw],
            counters={as_text(k): int(v) for k, v in counters_raw.items()},
            pins=[(as_text(member), int(score)) for member, score in pins_raw],
            sales=sales,
            products={as_text(k): json.loads(v) for k, v in products_raw.items()},
            now_ms=int(time.time() * 1000),
            formats=formats,
            clicked=clicked,
        )

    async def _sales(self, room_id: str, sale_ids: list[str]) -> list[dict[str, str]]:
        if not sale_ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for sale_id in sale_ids:
            pipe.hmget(
                self._keys.sale(room_id, sale_id),
                "product_id",
                "starts_at",
                "ends_at",
                "stopped_at",
            )
        result = []
        for sale_id, values in zip(sale_ids, await pipe.execute(), strict=True):
            product, starts, ends, stopped = (as_text(v) if v is not None else "" for v in values)
            result.append(
                {
                    "sale": sale_id,
                    "product": product,
                    "starts_at": starts,
                    "ends_at": ends,
                    "stopped_at": stopped,
                }
            )
        return result


def spread_slots(counts: dict[str, int]) -> dict[str, int]:
    """Per-product-and-slot fields ("q:PRODUCT:SLOT:STEP") summed per product
    ("p:PRODUCT:STEP") and per slot ("t:SLOT:STEP")."""
    result = {name: value for name, value in counts.items() if not name.startswith("q:")}
    for name, value in counts.items():
        if not name.startswith("q:"):
            continue
        product, slot, step = name.removeprefix("q:").rsplit(":", 2)
        for field in (f"p:{product}:{step}", f"t:{slot}:{step}"):
            result[field] = result.get(field, 0) + value
    return result


def compose(room_id: str, raw: RoomData) -> dict[str, Any]:
    """The report's JSON from what the store holds."""
    counts = raw.counts
    start_ms = int(raw.room.get("started_at") or raw.room.get("created_at") or raw.now_ms)
    base_ms = start_ms // SLOT_MS * SLOT_MS
    end_ms = int(raw.room.get("ended_at") or raw.now_ms)
    totals = _totals(raw)
    funnel = {
        step.value: {
            "total": totals[step],
            "users": raw.users[step][0],
            "users_exact": raw.users[step][1],
        }
        for step in Step
    }
    through = click_through(funnel, raw.clicked)
    gmv_by_currency = {
        name.removeprefix(GMV_PREFIX): value
        for name, value in raw.counters.items()
        if name.startswith(GMV_PREFIX)
    }
    currency = max(gmv_by_currency, key=lambda c: gmv_by_currency[c], default=None)
    gmv = gmv_by_currency.get(currency, 0) if currency else 0
    entries = counts.get(Step.entries.value, 0)
    watched = sorted(raw.spans_ms)
    return {
        "room": room_id,
        "anchor": raw.room.get("anchor", ""),
        "status": raw.room.get("status", ""),
        "started_at": int(raw.room["started_at"]) if raw.room.get("started_at") else None,
        "ended_at": int(raw.room["ended_at"]) if raw.room.get("ended_at") else None,
        "generated_at": raw.now_ms,
        "frozen": False,
        "funnel": funnel,
        "conversion": _conversion(funnel, through["rate"]),
        "click_through": through,
        "watch": {
            "viewers": len(watched),
            "avg_s": round(sum(watched) / len(watched) / 1000, 1) if watched else 0.0,
            "median_s": round(statistics.median(watched) / 1000, 1) if watched else 0.0,
        },
        "retention": _series(counts, base_ms, end_ms, ("viewers",)),
        "orders": _series(counts, base_ms, end_ms, ("reserved", "paid")),
        "peak_viewers": raw.counters.get("peak_viewers", 0),
        "gmv_cents": gmv,
        "currency": currency,
        "gmv_by_currency": gmv_by_currency,
        "gpm_cents": round(gmv * 1000 / entries) if entries else 0,
        "products": _products(raw),
        "markers": _markers(raw, base_ms),
        "formats": formats_report(raw.formats, raw.counters, currency),
        "unique_error": HLL_STANDARD_ERROR,
    }


def _totals(raw: RoomData) -> dict[Step, int]:
    """Each step's total. The buy steps are the flash sales' (the buy path's), like their
    users: reservations and payments are the room's counters less the other order sources'
    (``formats.orders`` lists each source); a buy attempt is a flash sale's reservation or
    a refusal by a sale's rules."""
    counts = raw.counts
    sale = next(row for row in source_rows(raw.counters, None) if row["source"] == "sale")
    refused = sum(value for name, value in counts.items() if _is_refusals(name))
    return {
        Step.impressions: counts.get(Step.impressions.value, 0),
        Step.entries: counts.get(Step.entries.value, 0),
        Step.product_views: counts.get(Step.product_views.value, 0),
        Step.buy_attempts: sale["orders"] + refused,
        Step.reserved: sale["orders"],
        Step.paid: sale["paid"],
    }


def _is_refusals(field: str) -> bool:
    return field.startswith("s:") and field.endswith(":refused")


def _conversion(funnel: dict[str, dict[str, Any]], through: float) -> list[dict[str, Any]]:
    """Each step's visitors over the previous step's (unique users), as a fraction; from
    impressions to entries the click-through (``through``). Between the buy steps the
    visitors are nested (a payer reserved, a reserver attempted), so a rate is at most 1
    there (only the HyperLogLogs' estimates could say more)."""
    result = [{"from": Step.impressions.value, "to": Step.entries.value, "rate": through}]
    for before, after in itertools.pairwise(list(Step)[1:]):
        previous = funnel[before.value]["users"]
        rate = funnel[after.value]["users"] / previous if previous else 0.0
        if before in BUY_STEPS:
            rate = min(rate, 1.0)
        result.append({"from": before.value, "to": after.value, "rate": round(rate, 4)})
    return result


def _series(
    counts: dict[str, int], base_ms: int, end_ms: int, metrics: tuple[str, ...]
) -> list[dict[str, int]]:
    """``[{t, metric…}]`` per 10 s slot from the start to the end (or now), gaps as 0."""
    first = base_ms // SLOT_MS
    last = max(first, end_ms // SLOT_MS)
    last = min(last, first + MAX_SLOTS - 1)
    rows = []
    for slot in range(first, last + 1):
        row = {"t": (slot - first) * SLOT_MS // 1000}
        for metric in metrics:
            row[metric] = counts.get(f"t:{slot}:{metric}", 0)
        rows.append(row)
    return rows


def _products(raw: RoomData) -> list[dict[str, Any]]:
    counts = raw.counts
    refused: dict[str, int] = {}
    for sale in raw.sales:
        sold = sale["product"]
        refused[sold] = refused.get(sold, 0) + counts.get(f"s:{sale['sale']}:refused", 0)
    rows = []
    for product_id, product in sorted(raw.products.items()):

        def count(metric: str, pid: str = product_id) -> int:
            return counts.get(f"p:{pid}:{metric}", 0)

        rows.append(
            {
                "product": product_id,
                "title": product.get("title", ""),
                "views": count(Step.product_views.value),
                "attempts": count(Step.reserved.value) + refused.get(product_id, 0),
                "reserved": count(Step.reserved.value),
                "paid": count(Step.paid.value),
                "gmv_cents": count("gmv_cents"),
                "currency": product.get("currency", ""),
            }
        )
    return rows


def _markers(raw: RoomData, base_ms: int) -> list[dict[str, Any]]:
    """Pins, sale starts and ends and the formats' markers, ``t`` in seconds from the
    first slot: those that happened by now and by the room's end. A sale still running
    at the room's end (ended with it) is marked ended there."""
    room_end = int(raw.room.get("ended_at") or 0)
    until = min(raw.now_ms, room_end or raw.now_ms)
    marks: list[dict[str, Any]] = []
    for member, at in raw.pins:
        kind, _, rest = member.partition(":")
        product = rest.rsplit(":", 1)[0]
        marks.append({"t": (at - base_ms) / 1000, "at": at, "type": kind, "product": product})
    for sale in raw.sales:
        starts = int(sale["starts_at"] or 0)
        ends = [int(sale[f]) for f in ("ends_at", "stopped_at") if sale[f] and int(sale[f]) > 0]
        end = min([*ends, room_end] if room_end else ends, default=raw.now_ms + 1)
        if not starts or starts > min(end, raw.now_ms):
            continue  # not open yet, or it never opened (stopped first, or the room ended)
        marks.append(_sale_mark("sale_started", sale, starts, base_ms))
        if end <= raw.now_ms:
            marks.append(_sale_mark("sale_ended", sale, end, base_ms))
    marks += format_markers(raw.formats, base_ms, until)
    return sorted(
        (mark for mark in marks if mark["at"] <= until),
        key=lambda mark: (mark["at"], mark["type"]),
    )


def _sale_mark(kind: str, sale: dict[str, str], at: int, base_ms: int) -> dict[str, Any]:
    return {
        "t": (at - base_ms) / 1000,
        "at": at,
        "type": kind,
        "product": sale["product"],
        "sale": sale["sale"],
    }
