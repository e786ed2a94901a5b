"""A replay's timeline, taken from the room's own events while it records.

Kept: ``product_pinned``, ``sale_started``, ``sale_ended`` as they were sent, and
``chat`` lines up to a cap (the first ones). The timeline opens at 0 s with what was
already on when the recording started: the pinned product and each sale open then
(each once: an event that arrived meanwhile is not repeated). Orders are counted once the recording
ends, per 10 s, from the room's outbox (every ``order.created`` is there, written
in the same step as the reservation), so the counts are exact and cost nothing
while live.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

from livecommerce.bus import Delivery, Listener
from livecommerce.context import StoreContext
from livecommerce.store.decoding import as_text, decode_entries

KEPT: Final = ("product_pinned", "sale_started", "sale_ended")
# Timeline entry types of its own (not channel frames): orders counted per interval.
ORDERS: Final = "orders"
ORDERS_INTERVAL_S: Final = 10
OUTBOX_PAGE: Final = 1000
# Chat text kept per line in a timeline.
CHAT_CHARS: Final = 500


# Sales that have started and not ended, as the API names their status.
STARTED: Final = frozenset({"open", "sold_out"})


def now_ms() -> int:
    return int(time.time() * 1000)


class JsonView(Protocol):
    def to_json(self) -> Mapping[str, object]: ...


class ActiveSales(Protocol):
    """What the timeline needs of ``commerce.sales.SaleService``."""

    async def active(self, room_id: str) -> Sequence[JsonView]:
        """The room's sales not ended (scheduled, open or sold out)."""


class TimelineTap:
    """The events of one recording, buffered until :meth:`take`."""

    def __init__(self, room_id: str, chat_max: int) -> None:
        self.room_id = room_id
        self._chat_max = chat_max
        self._chats = 0
        self._pending: list[dict[str, Any]] = []
        self._pinned = False  # a pin arrived since the tap listens
        self._sales: set[str] = set()  # sales whose ``sale_started`` is in the timeline
        self.listener = Listener(room_id, self._on_delivery)

    def _on_delivery(self, delivery: Delivery) -> None:
        if delivery.to is not None:
            return  # one user's frame, not the room's
        event = delivery.event
        kind = event.get("type")
        if kind == "sale_started":
            sale_id = _sale_id(event.get("sale"))
            if sale_id in self._sales:
                return  # it opened the timeline already
            self._sales.add(sale_id)
        elif kind == "product_pinned":
            self._pinned = True
        if kind in KEPT:
            entry = {k: v for k, v in event.items() if k != "type"}
            self._pending.append({"at": now_ms(), "type": kind, **entry})
        elif kind == "chat" and self._chats < self._chat_max:
            self._chats += 1
            self._pending.append(
                {
                    "at": _int(event.get("ts")) or now_ms(),
                    "type": "chat",
                    "id": event.get("id"),
                    "user": event.get("user"),
                    "text": str(event.get("text", ""))[:CHAT_CHARS],
                }
            )

    def opening(
        self, at: int, pinned: dict[str, object] | None, sales: Sequence[Mapping[str, object]]
    ) -> list[dict[str, Any]]:
        """The entries at ``at`` (the recording's start) for the product pinned and the
        sales open then, less those the room's events already brought."""
        entries: list[dict[str, Any]] = []
        if pinned is not None and not self._pinned:
            entries.append({"at": at, "type": "product_pinned", "product": pinned})
        for sale in sales:
            sale_id = _sale_id(sale)
            if sale.get("status") in STARTED and sale_id not in self._sales:
                self._sales.add(sale_id)
                entries.append({"at": at, "type": "sale_started", "sale": dict(sale)})
        return entries

    def take(self) -> list[dict[str, Any]]:
        pending, self._pending = self._pending, []
        return pending


async def pinned_product(store: StoreContext, room_id: str) -> dict[str, object] | None:
    """The product pinned in the room now, as the API shows it."""
    product_id = await store.client.get(store.keys.pinned_product(room_id))
    if not product_id:
        return None
    raw = await store.client.hget(store.keys.products(room_id), as_text(product_id))
    if not raw:
        return None
    product = json.loads(raw)
    return product if isinstance(product, dict) else None


async def order_counts(
    store: StoreContext, room_id: str, start_ms: int, end_ms: int
) -> list[dict[str, Any]]:
    """An ``orders`` entry (``at``, ``count``, ``interval_s``) per 10 s with orders, from
    the outbox."""
    buckets: dict[int, int] = {}
    cursor = f"{start_ms}-0"
    key = store.keys.outbox(room_id)
    while True:
        reply: Any = await store.client.xrange(key, cursor, str(end_ms), count=OUTBOX_PAGE)
        entries = decode_entries(reply)
        for entry_id, fields in entries:
            if fields.get("type") == "order.created" and not _from_replay(fields):
                at = int(entry_id.split("-")[0])
                bucket = (at - start_ms) // (ORDERS_INTERVAL_S * 1000)
                buckets[bucket] = buckets.get(bucket, 0) + 1
        if len(reply or []) < OUTBOX_PAGE:
            break
        cursor = "(" + as_text(reply[-1][0])
    return [
        {
            "at": start_ms + b * ORDERS_INTERVAL_S * 1000,
            "type": ORDERS,
            "count": n,
            "interval_s": ORDERS_INTERVAL_S,
        }
        for b, n in sorted(buckets.items())
    ]


def _from_replay(fields: dict[str, str]) -> bool:
    try:
        return bool(json.loads(fields.get("data", "{}")).get("source") == "replay")
    except ValueError:
        return False


def _sale_id(sale: object) -> str:
    return str(sale.get("id", "")) if isinstance(sale, Mapping) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
