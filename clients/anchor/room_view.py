"""What the anchor's console knows of the room, updated from channel frames and stats.

Pure state, no I/O: :meth:`ConsoleState.apply` takes one channel frame and
returns the event lines to print; :meth:`ConsoleState.status_line` renders
the one-line summary the console prints whenever it changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from clients.anchor.format_commands import event_line

Frame = dict[str, Any]
# (tag, text): the console prints "[tag] text", coloured on a terminal.
Line = tuple[str, str]


def money(cents: int, currency: str) -> str:
    return f"{currency} {cents // 100}.{cents % 100:02d}"


def _message_order(message_id: str) -> tuple[int, int]:
    millis, _, sequence = message_id.partition("-")
    try:
        return int(millis), int(sequence or 0)
    except ValueError:
        return (0, 0)


@dataclass
class SaleView:
    """A flash sale as the console shows it."""

    id: str
    product_id: str
    price_cents: int
    currency: str
    quantity: int
    left: int
    status: str
    sold: int = 0
    reserved: int = 0
    ends_at: int = 0

    @classmethod
    def from_json(cls, sale: Frame) -> SaleView:
        return cls(
            id=str(sale["id"]),
            product_id=str(sale["product_id"]),
            price_cents=int(sale["price_cents"]),
            currency=str(sale["currency"]),
            quantity=int(sale["quantity"]),
            left=int(sale["left"]),
            status=str(sale["status"]),
            sold=int(sale.get("sold", 0)),
            reserved=int(sale.get("reserved", 0)),
            ends_at=int(sale.get("ends_at", 0)),
        )


@dataclass
class ConsoleState:
    """The room as seen from the anchor's seat."""

    viewers: int = 0
    likes: int = 0
    orders: int = 0
    paid_orders: int = 0
    gmv_cents: dict[str, int] = field(default_factory=dict)
    sales: dict[str, SaleView] = field(default_factory=dict)
    product_titles: dict[str, str] = field(default_factory=dict)
    pinned: str | None = None
    room_status: str = "?"
    last_chat_id: str | None = None
    stats_seen: bool = False

    @property
    def joined(self) -> bool:
        """Whether a welcome arrived (before it, viewers and stock are unknown)."""
        return self.room_status != "?"

    def remember_product(self, product: Frame) -> None:
        self.product_titles[str(product["id"])] = str(product["title"])

    def product_name(self, product_id: str) -> str:
        return self.product_titles.get(product_id, product_id)

    def apply(self, frame: Frame) -> list[Line]:
        """Take one channel frame; the lines worth printing for it."""
        kind = frame.get("type")
        handler = _HANDLERS.get(str(kind))
        if handler is None:
            line = event_line(frame)
            return [line] if line is not None else []
        return handler(self, frame)

    def apply_stats(self, stats: Frame) -> list[Line]:
        """Take ``GET /api/rooms/ROOM/stats``; a line when orders or payments moved."""
        orders, paid = int(stats.get("orders", 0)), int(stats.get("paid_orders", 0))
        gmv = {str(k): int(v) for k, v in dict(stats.get("gmv_cents", {})).items()}
        moved = self.stats_seen and (orders != self.orders or paid != self.paid_orders)
        new_orders, new_paid = orders - self.orders, paid - self.paid_orders
        self.orders, self.paid_orders, self.gmv_cents = orders, paid, gmv
        self.stats_seen = True
        if not moved:
            return []
        news = []
        if new_orders > 0:
            news.append(f"{new_orders} new order{'s' if new_orders != 1 else ''}")
        if new_paid > 0:
            news.append(f"{new_paid} paid")
        return [("order", f"{', '.join(news) or 'changed'}: {self._orders_summary()}")]

    def status_line(self) -> str:
        """Viewers, likes, orders, GMV, the pinned product and each sale's stock."""
        parts = [
            f"viewers {self.viewers}",
            f"likes {self.likes}",
            self._orders_summary(),
        ]
        if self.pinned is not None:
            parts.append(f"pinned {self.product_name(self.pinned)}")
        for sale in self.sales.values():
            if sale.status == "ended":
                continue
            stock = "sold out" if sale.left <= 0 else f"{sale.left}/{sale.quantity} left"
            scheduled = " (scheduled)" if sale.status == "scheduled" else ""
            parts.append(f"sale {sale.id} {self.product_name(sale.product_id)}: {stock}{scheduled}")
        return " | ".join(parts)

    def _orders_summary(self) -> str:
        gmv = ", ".join(money(c, cur) for cur, c in sorted(self.gmv_cents.items())) or "0"
        return f"orders {self.orders} ({self.paid_orders} paid) | GMV {gmv}"

    def _welcome(self, frame: Frame) -> list[Line]:
        room = frame.get("room") or {}
        self.room_status = str(room.get("status", "?"))
        self.likes = int(frame.get("likes", 0))
        self.viewers = int(frame.get("viewers", 0))
        pinned = frame.get("pinned_product")
        if pinned:
            self.remember_product(pinned)
            self.pinned = str(pinned["id"])
        self.sales = {
            view.id: view for view in (SaleView.from_json(s) for s in frame.get("sales", []))
        }
        lines: list[Line] = [
            ("room", f"joined the channel of {room.get('title', '?')!r} ({self.room_status})")
        ]
        for message in frame.get("messages", []):
            lines.extend(self._chat(message))
        return lines

    def _chat(self, frame: Frame) -> list[Line]:
        message_id = str(frame.get("id", ""))
        if self.last_chat_id is not None and _message_order(message_id) <= _message_order(
            self.last_chat_id
        ):
            return []  # already shown before a reconnect
        self.last_chat_id = message_id
        role = frame.get("role")
        who = f"{frame.get('user')} ({role})" if role not in (None, "viewer") else frame.get("user")
        return [("chat", f"{who}: {frame.get('text', '')}")]

    def _viewers(self, frame: Frame) -> list[Line]:
        self.viewers = int(frame.get("count", 0))
        return []

    def _likes(self, frame: Frame) -> list[Line]:
        self.likes = int(frame.get("total", self.likes))
        return []

    def _pinned(self, frame: Frame) -> list[Line]:
        product = frame["product"]
        self.remember_product(product)
        self.pinned = str(product["id"])
        price = money(int(product["price_cents"]), str(product["currency"]))
        return [("pin", f"pinned {product['title']} ({product['id']}) at {price}")]

    def _sale_started(self, frame: Frame) -> list[Line]:
        sale = SaleView.from_json(frame["sale"])
        self.sales[sale.id] = sale
        ends = time.strftime("%H:%M:%S", time.localtime(sale.ends_at / 1000))
        return [
            (
                "sale",
                f"started {sale.id}: {self.product_name(sale.product_id)} at "
                f"{money(sale.price_cents, sale.currency)}, {sale.left} in stock, ends {ends}",
            )
        ]

    def _sale_stock(self, frame: Frame) -> list[Line]:
        sale = self.sales.get(str(frame.get("sale")))
        if sale is not None:
            sale.left = int(frame.get("left", sale.left))
        return []

    def _sold_out(self, frame: Frame) -> list[Line]:
        sale = self.sales.get(str(frame.get("sale")))
        if sale is None or (sale.left <= 0 and sale.status == "sold_out"):
            return []
        sale.left, sale.status = 0, "sold_out"
        return [("sale", f"{sale.id} {self.product_name(sale.product_id)} is sold out")]

    def _sale_ended(self, frame: Frame) -> list[Line]:
        sale = SaleView.from_json(frame["sale"])
        self.sales[sale.id] = sale
        taken = sale.quantity - sale.left
        return [
            (
                "sale",
                f"ended {sale.id} {self.product_name(sale.product_id)}: {taken} of "
                f"{sale.quantity} taken ({sale.sold} paid, {sale.reserved} awaiting payment)",
            )
        ]

    def _room_event(self, frame: Frame) -> list[Line]:
        kind = frame["type"]
        if kind in ("live", "offline"):
            self.room_status = "live" if kind == "live" else "scheduled"
        texts = {
            "live": "the stream is live",
            "offline": "the stream is offline",
            "room_ended": "the room has ended",
            "room_muted": "the room is muted: only you and moderators may chat",
            "room_unmuted": "the room is unmuted",
            "slow_mode": f"slow mode: {frame.get('interval_s', 0)} s between a viewer's messages",
            "chat_deleted": f"message {frame.get('id')} was deleted",
        }
        return [("room", texts[kind])]

    def _room_order(self, frame: Frame) -> list[Line]:
        return [("order", order_line(frame, self.product_name(str(frame["product"]))))]

    def _error(self, frame: Frame) -> list[Line]:
        return [("error", f"{frame.get('code')}: {frame.get('message')}")]


_HANDLERS = {
    "welcome": ConsoleState._welcome,
    "chat": ConsoleState._chat,
    "viewers": ConsoleState._viewers,
    "likes": ConsoleState._likes,
    "product_pinned": ConsoleState._pinned,
    "sale_started": ConsoleState._sale_started,
    "sale_stock": ConsoleState._sale_stock,
    "sold_out": ConsoleState._sold_out,
    "sale_ended": ConsoleState._sale_ended,
    "live": ConsoleState._room_event,
    "offline": ConsoleState._room_event,
    "room_ended": ConsoleState._room_event,
    "room_muted": ConsoleState._room_event,
    "room_unmuted": ConsoleState._room_event,
    "slow_mode": ConsoleState._room_event,
    "chat_deleted": ConsoleState._room_event,
    "room_order": ConsoleState._room_order,
    "error": ConsoleState._error,
}


def order_line(frame: Frame, product_name: str) -> str:
    """Who reserved or paid what (a ``room_order`` frame): ``bob: 2 × Oolong reserved ·
    EUR 19.80``, with the source when it is not a flash sale."""
    source = str(frame.get("source", "sale"))
    price = money(int(frame["amount_cents"]), str(frame["currency"]))
    via = "" if source == "sale" else f" ({source})"
    return f"{frame['user']}: {frame['qty']} × {product_name} {frame['status']} · {price}{via}"
