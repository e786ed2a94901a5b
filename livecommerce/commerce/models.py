"""Products, flash sales and orders as the rest of the server sees them."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from livecommerce.store.decoding import as_text


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Product:
    id: str
    room: str
    sku: str
    title: str
    price_cents: int
    currency: str
    image_url: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: bytes | str) -> Product:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Sale:
    id: str
    room: str
    product_id: str
    price_cents: int
    currency: str
    quantity: int
    per_user_limit: int
    reservation_ttl_s: int
    starts_at: int
    ends_at: int
    stock: int
    reserved: int
    sold: int
    stopped_at: int | None

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any]) -> Sale:
        f = {as_text(k): as_text(v) for k, v in raw.items()}
        return cls(
            id=f["id"],
            room=f["room"],
            product_id=f["product_id"],
            price_cents=int(f["price_cents"]),
            currency=f["currency"],
            quantity=int(f["quantity"]),
            per_user_limit=int(f["per_user_limit"]),
            reservation_ttl_s=int(f["reservation_ttl_s"]),
            starts_at=int(f["starts_at"]),
            ends_at=int(f["ends_at"]),
            stock=int(f["stock"]),
            reserved=int(f.get("reserved", "0")),
            sold=int(f.get("sold", "0")),
            stopped_at=int(f["stopped_at"]) if f.get("stopped_at") else None,
        )

    def status(self, at_ms: int | None = None) -> str:
        """``scheduled``, ``open``, ``sold_out`` or ``ended`` at ``at_ms`` (now by default)."""
        now = now_ms() if at_ms is None else at_ms
        if self.stopped_at is not None or now >= self.ends_at:
            return "ended"
        if now < self.starts_at:
            return "scheduled"
        return "sold_out" if self.stock <= 0 else "open"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room,
            "product_id": self.product_id,
            "price_cents": self.price_cents,
            "currency": self.currency,
            "quantity": self.quantity,
            "per_user_limit": self.per_user_limit,
            "reservation_ttl_s": self.reservation_ttl_s,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "status": self.status(),
            "left": self.stock,
            "reserved": self.reserved,
            "sold": self.sold,
            "stopped_at": self.stopped_at,
        }


class OrderStatus(StrEnum):
    reserved = "reserved"
    paid = "paid"
    cancelled = "cancelled"
    expired = "expired"


@dataclass(frozen=True)
class Order:
    """An order as its hash holds it (``sales_reserve.lua`` writes it, ``orders_settle.lua``
    moves it out of ``reserved`` once); times are milliseconds since the epoch."""

    id: str
    room: str
    sale: str
    product_id: str
    user: str
    qty: int
    unit_price_cents: int
    amount_cents: int
    currency: str
    status: OrderStatus
    created_at: int
    expires_at: int
    paid_at: int | None = None
    cancelled_at: int | None = None
    expired_at: int | None = None
    source: str = "sale"  # sale, auction or giveaway
    ref: str | None = None  # the auction's or giveaway's id
    voucher: str | None = None
    voucher_claim: str | None = None
    discount_cents: int = 0

    @classmethod
    def from_hash(cls, raw: Mapping[bytes | str, bytes | str]) -> Order:
        f = {as_text(k): as_text(v) for k, v in raw.items()}

        def at(name: str) -> int | None:
            return int(f[name]) if f.get(name) else None

        return cls(
            id=f["id"],
            room=f["room"],
            sale=f["sale"],
            product_id=f["product_id"],
            user=f["user"],
            qty=int(f["qty"]),
            unit_price_cents=int(f["unit_price_cents"]),
            amount_cents=int(f["amount_cents"]),
            currency=f["currency"],
            status=OrderStatus(f["status"]),
            created_at=int(f["created_at"]),
            expires_at=int(f["expires_at"]),
            paid_at=at("paid_at"),
            cancelled_at=at("cancelled_at"),
            expired_at=at("expired_at"),
            source=f.get("source") or "sale",
            ref=f.get("ref") or None,
            voucher=f.get("voucher") or None,
            voucher_claim=f.get("voucher_claim") or None,
            discount_cents=int(f.get("discount_cents") or "0"),
        )

    def to_json(self) -> dict[str, object]:
        """The order as ``GET /api/orders/{id}`` shows it: what the order does not have
        (an auction's or giveaway's sale, a giveaway's product) is null, and the auction,
        giveaway or replay that made it is named under its source, as in the webhooks."""
        shown: dict[str, object] = {**asdict(self), "status": self.status.value}
        for name in ("sale", "product_id", "currency"):
            shown[name] = shown[name] or None
        if self.source != "sale" and self.ref:
            shown[self.source] = self.ref
        return shown
