"""Buying from a replay at the product's list price.

A replay buy is a normal order: ``replays_buy.lua`` reserves it against the
product's replay stock (a sale-shaped hash made on the first buy) with the same
reservation, idempotency and outbox as a flash sale, so payment, cancellation,
expiry and the webhooks treat it like any order; its ``order.created`` event
carries ``source: "replay"`` and the replay's id. Only products the replay
showed (pinned, or on sale) can be bought from it.
"""

from __future__ import annotations

import secrets
from typing import Final

from livecommerce.config import RecordingSettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.replays.index import ReplayIndex
from livecommerce.replays.models import Replay
from livecommerce.store.replies_replays import ReplayBuyReply

# A retried buy with the same key gets the same answer for this long.
IDEMPOTENCY_TTL_MS: Final = 86_400_000
STOCK_PREFIX: Final = "replay_"


def shown_products(timeline: list[dict[str, object]]) -> set[str]:
    """Ids of the products a replay's timeline shows (pinned, or on sale)."""
    ids: set[str] = set()
    for entry in timeline:
        for field in ("product", "sale"):
            value = entry.get(field)
            if isinstance(value, dict):
                product = value.get("product_id", value.get("id") if field == "product" else None)
                if isinstance(product, str):
                    ids.add(product)
    return ids


class ReplayShop:
    def __init__(
        self,
        *,
        store: StoreContext,
        index: ReplayIndex,
        settings: RecordingSettings,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_MS / 1000,
    ) -> None:
        self._idempotency_ttl_ms = max(1, int(idempotency_ttl_s * 1000))
        self._store = store
        self._index = index
        self._settings = settings

    async def buy(
        self, replay: Replay, user: str, product_id: str, qty: int, key: str
    ) -> ReplayBuyReply:
        """Reserve ``qty`` units for ``user``; the same ``key`` again gives the same answer."""
        if product_id not in shown_products(await self._index.timeline(replay)):
            raise ApiError(
                ErrorCode.product_not_found,
                f"Replay {replay.id!r} shows no product {product_id!r}.",
            )
        keys, room_id = self._store.keys, replay.room
        stock_id = STOCK_PREFIX + product_id
        order_id = f"{room_id}-{secrets.token_hex(6)}"
        # Before the script, so no order can exist that the sweeper or the hooks miss.
        await self._store.client.sadd(keys.outboxes(), room_id)
        await self._store.client.sadd(keys.reserving_rooms(), room_id)
        return await self._store.money.call(
            ReplayBuyReply,
            [
                keys.products(room_id),
                keys.sale(room_id, stock_id),
                keys.sale_buyers(room_id, stock_id),
                keys.sale_idempotency(room_id, stock_id),
                keys.reservations(room_id),
                keys.order(room_id, order_id),
                keys.outbox(room_id),
                keys.room_other_buyers(room_id),
                keys.room_counters(room_id),
                keys.room_bans(room_id),
            ],
            [
                room_id,
                product_id,
                stock_id,
                user,
                qty,
                keys.idempotency_field(user, key),
                order_id,
                self._idempotency_ttl_ms,
                self._settings.replay_stock,
                self._settings.replay_per_user_limit,
                self._settings.replay_reservation_ttl_s,
                replay.id,
            ],
        )
