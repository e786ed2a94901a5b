"""Room retention: an ended room's keys are deleted ``rooms.retention_days`` after it ended.

Guarantees:

- A room is deleted in one atomic step on its hash tag (``rooms_delete.lua``): every
  key of the room (its hash, chat, moderation state, products, sales and their buyers
  and idempotency records, counters, outbox, …) or none. Orders, per-user like
  budgets and the room's frozen analytics report (``report:ROOM``, outside the room's
  hash tag) are not deleted with the room; they carry their own TTLs.
- Only a room that has ended at least ``retention_days`` ago, whose outbox is empty
  (every order event delivered and trimmed, or parked) and that holds no open
  reservation is deleted; any other is left for a later round.
- The indexes outside the room's tag (``rooms``, ``rooms:ended``, ``rooms:live``,
  ``outboxes``, ``reserving``, ``sales:clock``) are cleaned after the room's keys are
  gone, so a reader that finds an index entry without its room skips it (the room
  service already does).
- ``before_delete`` (the node's wiring freezes the analytics report there, when the
  room's end did not get to it) runs before each deletion attempt.
- Rooms reach the sweep through ``rooms:ended`` (written when a room ends). A room
  ended by a node that died before writing it, or by a release before the index
  existed, is found by a walk over ``rooms``, one page per round.
- A deleted room's outbox does not come back: the hook dispatcher creates its groups
  (and the stream) only while the room exists (``hooks_groups.lua``).

Every node sweeps; rounds on several nodes may overlap harmlessly (the script decides).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from livecommerce.context import StoreContext
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import ANALYTICS_STEPS, Keys
from livecommerce.store.replies_rooms import RoomDelete, RoomsDeleteReply
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.rooms.retention")

DAY_MS = 86_400_000
# A product's stock for replay buys is the sale "replay_PRODUCT" (``replays/shop.py``).
REPLAY_STOCK_PREFIX = "replay_"
# Rooms read from an index per page, and pages read per round: bounds one round's work.
PAGE = 200
MAX_PAGES = 10
# Outcomes after which the room's index entries go.
GONE = (RoomDelete.deleted, RoomDelete.no_room)


@dataclass(frozen=True)
class RoomItems:
    """The ids of a room's sales, vouchers, auctions and giveaways (each has keys of its own)."""

    sales: list[str] = field(default_factory=list)
    vouchers: list[str] = field(default_factory=list)
    auctions: list[str] = field(default_factory=list)
    giveaways: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)


def room_keys(keys: Keys, room_id: str, items: RoomItems) -> list[str]:
    """Every key ``rooms_delete.lua`` deletes, in the order it takes them: the four it
    checks first, then the room's other keys, then three per sale, then those of its
    vouchers, auctions and giveaways."""
    fixed = [
        keys.room(room_id),
        keys.reservations(room_id),
        keys.outbox(room_id),
        keys.sales(room_id),
        keys.chat_history(room_id),
        keys.chat_buckets(room_id),
        keys.chat_last_post(room_id),
        keys.room_counters(room_id),
        keys.room_engagement(room_id),
        keys.room_presence(room_id),
        keys.room_moderation(room_id),
        keys.room_mutes(room_id),
        keys.room_bans(room_id),
        keys.moderation_log(room_id),
        keys.automod(room_id),
        keys.chatters(room_id),
        keys.review_index(room_id),
        keys.review_items(room_id),
        keys.products(room_id),
        keys.pinned_product(room_id),
        keys.room_buyers(room_id),
        keys.room_other_buyers(room_id),
        keys.room_watch(room_id),
        keys.watch_spans(room_id),
        keys.analytics(room_id),
        keys.analytics_marks(room_id),
        keys.vouchers(room_id),
        keys.voucher_claims(room_id),
        keys.voucher_wallets(room_id),
        keys.pinned_voucher(room_id),
        keys.auctions(room_id),
        keys.giveaways(room_id),
    ]
    for step in ANALYTICS_STEPS:
        fixed += [keys.analytics_users(room_id, step), keys.analytics_hll(room_id, step)]
    for sale_id in items.sales:
        fixed += [
            keys.sale(room_id, sale_id),
            keys.sale_buyers(room_id, sale_id),
            keys.sale_idempotency(room_id, sale_id),
        ]
    for product_id in items.products:  # the replay page's stock (a sale-shaped hash)
        fixed += [
            keys.sale(room_id, REPLAY_STOCK_PREFIX + product_id),
            keys.sale_buyers(room_id, REPLAY_STOCK_PREFIX + product_id),
            keys.sale_idempotency(room_id, REPLAY_STOCK_PREFIX + product_id),
        ]
    for voucher_id in items.vouchers:
        fixed += [
            keys.voucher(room_id, voucher_id),
            keys.voucher_users(room_id, voucher_id),
            keys.voucher_idempotency(room_id, voucher_id),
        ]
    for auction_id in items.auctions:
        fixed += [keys.auction(room_id, auction_id), keys.auction_idempotency(room_id, auction_id)]
    for giveaway_id in items.giveaways:
        fixed += [
            keys.giveaway(room_id, giveaway_id),
            keys.giveaway_entrants(room_id, giveaway_id),
            keys.giveaway_said(room_id, giveaway_id),
        ]
    return fixed


def now_ms_default() -> int:
    return int(time.time() * 1000)


class RoomRetention:
    """Deletes rooms ended more than ``retention_days`` ago, every ``interval_s``."""

    def __init__(
        self,
        *,
        store: StoreContext,
        retention_days: float,
        interval_s: float,
        clock_ms: Callable[[], int] = now_ms_default,
        before_delete: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._client = store.client
        self._before_delete = before_delete
        self._keys = store.keys
        self._scripts = store.scripts
        self._retention_ms = int(retention_days * DAY_MS)
        self._interval_s = interval_s
        self._clock_ms = clock_ms
        self._walk_from = 0
        self._tasks = Supervisor(logger=log)

    def start(self) -> None:
        self._tasks.every(
            "room retention", self._interval_s, self.sweep, quiet=STORE_UNAVAILABLE_ERRORS
        )

    async def stop(self) -> None:
        await self._tasks.stop()

    async def sweep(self) -> int:
        """One round: index ended rooms the walk finds, then delete those due; the number
        of rooms deleted."""
        await self.walk_page()
        ended_before = self._clock_ms() - self._retention_ms
        deleted = 0
        offset = 0
        for _ in range(MAX_PAGES):
            due = await self._client.zrangebyscore(
                self._keys.rooms_ended(), 0, ended_before, start=offset, num=PAGE
            )
            if not due:
                break
            kept = 0
            for raw in due:
                outcome = await self.delete(as_text(raw), ended_before)
                if outcome is RoomDelete.deleted:
                    deleted += 1
                if outcome not in GONE and outcome is not RoomDelete.not_ended:
                    kept += 1
            offset += kept
        if deleted:
            log.info("room retention: deleted %d rooms ended before %d", deleted, ended_before)
        return deleted

    async def delete(self, room_id: str, ended_before: int) -> RoomDelete:
        """Delete the room if it is due (see the module's guarantees); the script's outcome."""
        outcome = RoomDelete.sales_changed
        items = RoomItems()
        if self._before_delete is not None:
            await self._before_delete(room_id)
        for _ in range(3):
            items = await self._items(room_id)
            reply = await self._scripts.call(
                RoomsDeleteReply,
                room_keys(self._keys, room_id, items),
                [ended_before, len(items.sales)],
            )
            outcome = reply.outcome
            if outcome is not RoomDelete.sales_changed:
                break
        if outcome in GONE:
            await self._forget(room_id, items)
        elif outcome is RoomDelete.not_ended:
            await self._client.zrem(self._keys.rooms_ended(), room_id)
        return outcome

    async def _items(self, room_id: str) -> RoomItems:
        """The ids of the room's sales, vouchers, auctions and giveaways (an ended room
        gets no new vouchers, auctions or giveaways; the script re-checks the sales)."""
        pipe = self._client.pipeline(transaction=False)
        for index in (
            self._keys.sales(room_id),
            self._keys.vouchers(room_id),
            self._keys.auctions(room_id),
            self._keys.giveaways(room_id),
        ):
            pipe.zrange(index, 0, -1)
        pipe.hkeys(self._keys.products(room_id))
        sales, vouchers, auctions, giveaways, products = (
            [as_text(raw) for raw in ids] for ids in await pipe.execute()
        )
        return RoomItems(sales, vouchers, auctions, giveaways, products)

    async def _forget(self, room_id: str, items: RoomItems) -> None:
        pipe = self._client.pipeline(transaction=False)
        pipe.zrem(self._keys.rooms_live(), room_id)
        pipe.srem(self._keys.outboxes(), room_id)
        pipe.srem(self._keys.reserving_rooms(), room_id)
        for clock, ids in (
            (self._keys.sales_clock(), items.sales),
            (self._keys.auctions_clock(), items.auctions),
            (self._keys.giveaways_clock(), items.giveaways),
        ):
            if ids:
                pipe.zrem(clock, *(f"{room_id} {item}" for item in ids))
        pipe.zrem(self._keys.rooms_index(), room_id)
        pipe.zrem(self._keys.rooms_ended(), room_id)
        await pipe.execute()

    async def walk_page(self) -> None:
        """Read one page of ``rooms`` (from where the last round stopped, wrapping
        around): ended rooms missing from ``rooms:ended`` are added, ids whose room is
        gone are forgotten."""
        ids = [
            as_text(raw)
            for raw in await self._client.zrange(
                self._keys.rooms_index(), self._walk_from, self._walk_from + PAGE - 1
            )
        ]
        self._walk_from = self._walk_from + PAGE if len(ids) == PAGE else 0
        if not ids:
            return
        pipe = self._client.pipeline(transaction=False)
        for room_id in ids:
            pipe.hmget(self._keys.room(room_id), ["status", "ended_at"])
        found = await pipe.execute()
        ended: dict[str, int] = {}
        for room_id, (status, ended_at) in zip(ids, found, strict=True):
            if status is None:
                await self._forget(room_id, RoomItems())
            elif as_text(status) == "ended":
                ended[room_id] = int(ended_at or 0)
        if ended:
            await self._client.zadd(self._keys.rooms_ended(), ended, nx=True)
