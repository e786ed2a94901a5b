"""Flash sales: creation, state changes (start, end, stop) and reads.

The reserve script checks a sale's times itself, so buying never depends on
a clock loop; the loop (:meth:`SaleService.advance_due`) only announces
``sale_started`` / ``sale_ended``, and a Lua state change makes sure each is
announced once even with several nodes running it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from livecommerce.commerce.models import Product, Sale, now_ms
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.decoding import as_text
from livecommerce.store.replies import SaleAdvanceReply, SaleChange

DUE_BATCH = 100


@dataclass(frozen=True)
class SaleTerms:
    product: Product
    price_cents: int
    quantity: int
    per_user_limit: int
    duration_s: int
    reservation_ttl_s: int
    starts_at: int | None


class SaleService:
    def __init__(self, *, store: StoreContext) -> None:
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus

    async def create(self, room_id: str, terms: SaleTerms) -> Sale:
        sale_id = f"s_{secrets.token_hex(5)}"
        created = now_ms()
        starts_at = terms.starts_at if terms.starts_at is not None else created
        ends_at = starts_at + terms.duration_s * 1000
        fields: dict[Any, Any] = {
            "id": sale_id,
            "room": room_id,
            "product_id": terms.product.id,
            "price_cents": terms.price_cents,
            "currency": terms.product.currency,
            "quantity": terms.quantity,
            "per_user_limit": terms.per_user_limit,
            "reservation_ttl_s": terms.reservation_ttl_s,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "stock": terms.quantity,
            "reserved": 0,
            "sold": 0,
            "state": "scheduled",
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._keys.sale(room_id, sale_id), mapping=fields)
        pipe.zadd(self._keys.sales(room_id), {sale_id: created})
        await pipe.execute()
        await self._client.sadd(self._keys.outboxes(), room_id)
        await self._client.sadd(self._keys.reserving_rooms(), room_id)
        await self._client.zadd(self._keys.sales_clock(), {f"{room_id} {sale_id}": starts_at})
        await self.advance(room_id, sale_id)
        return await self.get(room_id, sale_id)

    async def find(self, room_id: str, sale_id: str) -> Sale | None:
        raw = await self._client.hgetall(self._keys.sale(room_id, sale_id))
        return Sale.from_hash(raw) if raw else None

    async def get(self, room_id: str, sale_id: str) -> Sale:
        sale = await self.find(room_id, sale_id)
        if sale is None:
            raise ApiError(ErrorCode.sale_not_found, f"No sale {sale_id!r} in this room.")
        return sale

    async def active(self, room_id: str) -> list[Sale]:
        """Sales not yet ended (scheduled, open or sold out), oldest first."""
        ids = await self._client.zrange(self._keys.sales(room_id), 0, -1)
        pipe = self._client.pipeline(transaction=False)
        for sale_id in ids:
            pipe.hgetall(self._keys.sale(room_id, as_text(sale_id)))
        sales = [Sale.from_hash(raw) for raw in await pipe.execute() if raw]
        return [sale for sale in sales if sale.status() != "ended"]

    async def stop(self, room_id: str, sale_id: str) -> Sale:
        """End the sale now; open reservations stay payable until they expire."""
        await self.get(room_id, sale_id)
        await self.advance(room_id, sale_id, stop=True)
        return await self.get(room_id, sale_id)

    async def advance(self, room_id: str, sale_id: str, stop: bool = False) -> None:
        """Apply the state change due now, announce it, and schedule the next one."""
        reply = await self._scripts.call(
            SaleAdvanceReply, [self._keys.sale(room_id, sale_id)], ["1" if stop else "0"]
        )
        member = f"{room_id} {sale_id}"
        if reply.next_at > 0:
            await self._client.zadd(self._keys.sales_clock(), {member: reply.next_at})
        else:
            await self._client.zrem(self._keys.sales_clock(), member)
        if reply.change in (SaleChange.started, SaleChange.ended):
            sale = await self.get(room_id, sale_id)
            event = {"type": f"sale_{reply.change.value}", "sale": sale.to_json()}
            await self._bus.publish(room_id, event)

    async def advance_due(self) -> int:
        """Advance every sale whose state change is due; the number handled."""
        due = await self._client.zrangebyscore(self._keys.sales_clock(), 0, now_ms(), 0, DUE_BATCH)
        for member in due:
            room_id, _, sale_id = as_text(member).partition(" ")
            await self.advance(room_id, sale_id)
        return len(due)
