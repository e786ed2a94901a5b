"""Room and platform statistics: orders, buyers, GMV, conversion, daily active buyers."""

from __future__ import annotations

from typing import Any

from livecommerce.context import StoreContext
from livecommerce.store.decoding import as_text

GMV_PREFIX = "gmv_cents:"


class Stats:
    def __init__(self, *, store: StoreContext) -> None:
        self._client = store.client
        self._keys = store.keys

    async def room(self, room_id: str, viewers_now: int) -> dict[str, Any]:
        """Counters of one room; buyers are distinct users with an order of any source
        but a giveaway's; conversion is buyers over peak viewers."""
        sale_buyers = self._keys.room_buyers(room_id)
        other_buyers = self._keys.room_other_buyers(room_id)
        pipe = self._client.pipeline(transaction=False)
        pipe.hgetall(self._keys.room_counters(room_id))
        pipe.scard(sale_buyers)
        pipe.scard(other_buyers)
        pipe.sintercard(2, [sale_buyers, other_buyers])
        counters_raw, in_sales, in_others, in_both = await pipe.execute()
        buyers = int(in_sales) + int(in_others) - int(in_both)
        counters = {as_text(k): int(v) for k, v in counters_raw.items()}
        peak = max(counters.get("peak_viewers", 0), viewers_now)
        gmv = {
            name.removeprefix(GMV_PREFIX): value
            for name, value in counters.items()
            if name.startswith(GMV_PREFIX)
        }
        return {
            "room": room_id,
            "viewers": viewers_now,
            "peak_viewers": peak,
            "likes": counters.get("likes", 0),
            "chat_messages": counters.get("chat_messages", 0),
            "orders": counters.get("orders", 0),
            "paid_orders": counters.get("paid_orders", 0),
            "voucher_claims": counters.get("voucher_claims", 0),
            "bids": counters.get("bids", 0),
            "giveaway_entries": counters.get("giveaway_entries", 0),
            "buyers": int(buyers),
            "gmv_cents": gmv,
            "conversion": round(int(buyers) / peak, 4) if peak else 0.0,
        }

    async def daily_active_buyers(self, day: str) -> int:
        return int(await self._client.pfcount(self._keys.daily_buyers(day)))
