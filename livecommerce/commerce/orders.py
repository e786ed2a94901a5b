"""Buying and settling: reservations, payment, cancellation, expiry.

Every change of stock happens inside one Lua script together with its outbox
event (``sales_reserve.lua``, ``orders_settle.lua``); this module only picks
keys, turns answers into values and tells clients afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from livecommerce.bus import Delivery, Event
from livecommerce.commerce.models import Order, now_ms
from livecommerce.config import DiscoverySettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptArg, ScriptCaller
from livecommerce.store.replies import (
    BuyRefusal,
    BuyResult,
    ReservedOrder,
    ReserveKind,
    ReserveReply,
    SettleOutcome,
    SettleReply,
)

IDEMPOTENCY_TTL_MS = 86_400_000
# What a sale id may look like (the server makes ``s_`` + hex). Anything else cannot be a
# sale, and keeping ``:`` and braces out keeps a sale id from naming another key.
SALE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# For this long after the store said a sale is sold out, a node answers "sold out" with
# one read of the buyer's idempotency record instead of running the reserve script;
# stock that returns (cancel, expiry) is seen again after it.
SOLD_OUT_MEMORY_S = 1.0
EXPIRE_BATCH = 200
# A day's buyer count stays readable (GET /api/stats/dab) for over a year, then goes.
DAILY_BUYERS_TTL_S = 400 * 86_400
# commerce.order_retention_days' default, for services built without the settings.
DEFAULT_ORDER_RETENTION_S = 30 * 86_400.0
SETTLE_ERRORS = {
    SettleOutcome.order_not_found: ErrorCode.order_not_found,
    SettleOutcome.not_your_order: ErrorCode.not_your_order,
    SettleOutcome.reservation_expired: ErrorCode.reservation_expired,
    SettleOutcome.order_paid: ErrorCode.order_paid,
    SettleOutcome.order_cancelled: ErrorCode.order_cancelled,
    SettleOutcome.order_expired: ErrorCode.order_expired,
}


@dataclass(frozen=True)
class BuyAnswer:
    """The answer to one buy, and whether it reserved units just now (not a repeat)."""

    result: BuyResult
    fresh: bool

    @property
    def body(self) -> dict[str, object]:
        """``{ok, order?, expires_at?, reason?}`` as the buyer gets it."""
        return self.result.to_json()

    def frame(self, key: str) -> dict[str, object]:
        return {"type": "buy_result", "key": key, **self.body}


def room_of_order(order_id: str) -> str | None:
    """Order ids are ``ROOM-RANDOM``: the room is everything before the last dash."""
    room, dash, rest = order_id.rpartition("-")
    return room if dash and room and rest else None


def reserve_call(
    keys: Keys,
    discovery: DiscoverySettings,
    room_id: str,
    sale_id: str,
    user: str,
    qty: int,
    key: str,
    voucher_claim: str = "",
    *,
    analytics: int | None = None,
    idempotency_ttl_ms: int = IDEMPOTENCY_TTL_MS,
) -> tuple[list[str], list[ScriptArg]]:
    """KEYS and ARGV of ``sales_reserve.lua`` for one buy (a fresh order id); with
    ``analytics`` (``analytics.exact_users_max``) the buy is counted in the funnel; a
    ``voucher_claim`` ("best" or a claim id) asks for a voucher discount; the sale's
    answers are kept ``idempotency_ttl_ms`` after its last buy."""
    order_id = f"{room_id}-{secrets.token_hex(6)}"
    return (
        [
            keys.sale(room_id, sale_id),
            keys.sale_buyers(room_id, sale_id),
            keys.sale_idempotency(room_id, sale_id),
            keys.reservations(room_id),
            keys.order(room_id, order_id),
            keys.outbox(room_id),
            keys.room_buyers(room_id),
            keys.room_counters(room_id),
            keys.room_bans(room_id),
            keys.room_engagement(room_id),
            keys.analytics(room_id),
            keys.analytics_users(room_id, "buy_attempts"),
            keys.analytics_hll(room_id, "buy_attempts"),
            keys.voucher_claims(room_id),
            keys.voucher_wallets(room_id),
        ],
        [
            room_id,
            sale_id,
            user,
            qty,
            keys.idempotency_field(user, key),
            order_id,
            idempotency_ttl_ms,
            discovery.bucket_ms,
            discovery.buckets,
            analytics_arg(analytics),
            voucher_claim,
        ],
    )


def analytics_arg(exact_users_max: int | None) -> str:
    """The scripts' analytics argument: the exact-set limit, or '' when analytics is off."""
    return "" if exact_users_max is None else str(exact_users_max)


class OrderService:
    """Orders on the store. With a ``batcher``, the buys of one event-loop tick share
    one pipeline (and the new buyers' day counts another); without, each buy is its own
    round trip, at most ``max_in_flight`` at once (0: no bound), the others waiting
    their turn in arrival order for at most ``wait_s``."""

    def __init__(
        self,
        *,
        store: StoreContext,
        discovery: DiscoverySettings,
        batcher: StoreBatcher | None = None,
        max_in_flight: int = 0,
        wait_s: float = 5.0,
        order_retention_s: float = DEFAULT_ORDER_RETENTION_S,
        analytics: int | None = None,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_MS / 1000,
        daily_buyers_ttl_s: float = DAILY_BUYERS_TTL_S,
    ) -> None:
        self._buy_outcomes = store.metrics.buy_attempts
        self._buy_seconds = store.metrics.buy_seconds
        self._settled = store.metrics.orders_settled
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus
        self._discovery = discovery
        self._reserve: ScriptCaller = batcher or store.scripts
        self._money = store.money
        self._command = batcher.command if batcher else store.client.execute_command
        self._queue = batcher.queue if batcher else None
        # Batched buys share pipelines and need no bound; one call per buy takes a pooled
        # connection each, and a cluster node's pool fails at once when exhausted.
        self._turns = asyncio.Semaphore(max_in_flight) if not batcher and max_in_flight else None
        self._wait_s = wait_s
        self._order_retention_ms = int(order_retention_s * 1000)
        self._idempotency_ttl_ms = max(1, int(idempotency_ttl_s * 1000))
        self._daily_buyers_ttl_s = max(1, int(daily_buyers_ttl_s))
        # analytics.exact_users_max when the funnel is counted, else None.
        self._analytics = analytics
        self._sold_out: dict[tuple[str, str], float] = {}
        self._stock_changed: set[tuple[str, str]] = set()

    async def buy(
        self, room_id: str, sale_id: str, user: str, qty: int, key: str, voucher_claim: str = ""
    ) -> BuyAnswer:
        """Reserve ``qty`` units; the same user's same ``key`` on the same sale always gets
        the same answer (on another sale, or from another user, it is another buy). A
        ``voucher_claim`` (a claim id, or "best") takes that claim's discount off.

        Raises ApiError ``invalid_field`` when ``key`` or ``user`` is not valid Unicode
        text, and a store-unavailable error when the store did not answer in time.
        """
        started = time.perf_counter()
        if not SALE_ID.fullmatch(sale_id):
            self._count_buy("sale_not_found", started)
            return BuyAnswer(BuyResult.refused(BuyRefusal.sale_not_found), fresh=False)
        if not (_is_text(key) and _is_text(user)):
            raise ApiError(ErrorCode.invalid_field, "The buy's key must be valid Unicode text.")
        try:
            async with self._turn():
                return await self._buy(room_id, sale_id, user, qty, key, voucher_claim, started)
        except Exception:
            self._count_buy("error", started)
            raise

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._turns is None:
            yield
            return
        async with asyncio.timeout(self._wait_s):
            await self._turns.acquire()
        try:
            yield
        finally:
            self._turns.release()

    async def _buy(
        self,
        room_id: str,
        sale_id: str,
        user: str,
        qty: int,
        key: str,
        voucher_claim: str,
        started: float,
    ) -> BuyAnswer:
        remembered = self._sold_out.get((room_id, sale_id))
        if remembered is not None and time.monotonic() - remembered < SOLD_OUT_MEMORY_S:
            # Shed the script, not idempotency: a key that won before keeps its answer.
            previous = await self._command(
                "HGET",
                self._keys.sale_idempotency(room_id, sale_id),
                self._keys.idempotency_field(user, key),
            )
            result = (
                BuyResult.from_json(previous)
                if previous
                else BuyResult.refused(BuyRefusal.sold_out)
            )
            self._count_buy("repeat" if previous else "sold_out", started)
            return BuyAnswer(result, fresh=False)
        reply = await self._reserve.call(
            ReserveReply,
            *reserve_call(
                self._keys,
                self._discovery,
                room_id,
                sale_id,
                user,
                qty,
                key,
                voucher_claim,
                analytics=self._analytics,
                idempotency_ttl_ms=self._idempotency_ttl_ms,
            ),
        )
        if reply.answer.reason is BuyRefusal.sold_out:
            self._sold_out[(room_id, sale_id)] = time.monotonic()
        fresh = reply.kind is ReserveKind.new
        if fresh:
            self._stock_changed.add((room_id, sale_id))
            day_key = self._keys.daily_buyers(utc_day())
            # The day's buyer and the staff's feed go in the tick's next pipeline with the
            # other buyers' (when batched): no round trip of their own.
            staff = self._bus.publish_command(room_id, reserved_frame(reply, user, qty))
            if self._queue is not None:  # both in this tick's pipeline, no task per buy
                day, published = self._queue("PFADD", day_key, user), self._queue(*staff)
                counted, _ = await asyncio.gather(day, published)
            else:  # one round trip on one pooled connection, as the PFADD alone took
                pipe = self._client.pipeline(transaction=False)
                pipe.execute_command("PFADD", day_key, user)
                pipe.execute_command(*staff)
                counted, _ = await pipe.execute()
            if counted:
                await self._command("EXPIRE", day_key, self._daily_buyers_ttl_s)
            if reply.took_last:
                self._sold_out[(room_id, sale_id)] = time.monotonic()
                await self._bus.publish(room_id, {"type": "sold_out", "sale": sale_id})
        self._count_buy(_buy_outcome(reply), started)
        return BuyAnswer(reply.answer, fresh=fresh)

    def _count_buy(self, outcome: str, started: float) -> None:
        self._buy_outcomes.inc(outcome)
        self._buy_seconds.observe(time.perf_counter() - started)

    async def find(self, order_id: str) -> Order | None:
        room_id = room_of_order(order_id)
        if room_id is None:
            return None
        raw = await self._client.hgetall(self._keys.order(room_id, order_id))
        return Order.from_hash(raw) if raw else None

    async def get(self, order_id: str) -> Order:
        order = await self.find(order_id)
        if order is None:
            raise ApiError(ErrorCode.order_not_found, f"No order {order_id!r}.")
        return order

    async def settle(self, order_id: str, action: str, requester: str = "") -> Order:
        """Pay, cancel or expire an order (idempotent); ApiError when it cannot be done."""
        order = await self.get(order_id)
        room_id, sale_id = order.room, order.sale
        reply = await self._run_settle(room_id, sale_id, order_id, action, requester)
        if reply.outcome in SETTLE_ERRORS:
            if reply.outcome is SettleOutcome.reservation_expired:
                self._settled.inc(reply.status)
                await self._announce(order, reply)
            raise ApiError(SETTLE_ERRORS[reply.outcome])
        if reply.outcome is SettleOutcome.done:
            self._settled.inc(reply.status)
            await self._announce(order, reply)
        return await self.get(order_id)

    async def _run_settle(
        self, room_id: str, sale_id: str, order_id: str, action: str, requester: str
    ) -> SettleReply:
        keys = self._keys
        return await self._money.call(
            SettleReply,
            [
                keys.order(room_id, order_id),
                keys.sale(room_id, sale_id),
                keys.sale_buyers(room_id, sale_id),
                keys.reservations(room_id),
                keys.outbox(room_id),
                keys.room_counters(room_id),
                keys.analytics(room_id),
                keys.analytics_users(room_id, "paid"),
                keys.analytics_hll(room_id, "paid"),
                keys.voucher_claims(room_id),
            ],
            [action, requester, self._order_retention_ms, analytics_arg(self._analytics)],
        )

    async def _announce(self, order: Order, reply: SettleReply) -> None:
        """The buyer's ``order`` frame and the staff's ``room_order``, after the settle."""
        room_id, sale_id = order.room, order.sale
        await self._bus.publish(
            room_id,
            Delivery({"type": "order", "id": order.id, "status": reply.status}, to=reply.user),
        )
        await self._tell_staff(room_id, order_frame(order, reply.status))
        if reply.left >= 0:
            self._sold_out.pop((room_id, sale_id), None)
            self._stock_changed.add((room_id, sale_id))

    async def _tell_staff(self, room_id: str, frame: Event) -> None:
        await self._command(*self._bus.publish_command(room_id, Delivery(frame, staff=True)))

    async def expire_due(self) -> int:
        """Expire every reservation past its time (safe to run on several nodes at once)."""
        expired = 0
        rooms = await self._client.smembers(self._keys.reserving_rooms())
        for raw_room in rooms:
            room_id = as_text(raw_room)
            due = await self._client.zrangebyscore(
                self._keys.reservations(room_id), 0, now_ms(), 0, EXPIRE_BATCH
            )
            for raw_order in due:
                order = await self.find(as_text(raw_order))
                if order is None:
                    await self._client.zrem(self._keys.reservations(room_id), as_text(raw_order))
                    continue
                reply = await self._run_settle(room_id, order.sale, order.id, "expire", "")
                if reply.outcome is SettleOutcome.done:
                    expired += 1
                    self._settled.inc(reply.status)
                    await self._announce(order, reply)
        return expired

    async def stock_changes(self) -> list[tuple[str, str, int]]:
        """(room, sale, stock left) for each sale whose stock this node changed since asked."""
        changed, self._stock_changed = self._stock_changed, set()
        result = []
        for room_id, sale_id in changed:
            left = await self._client.hget(self._keys.sale(room_id, sale_id), "stock")
            if left is not None:
                result.append((room_id, sale_id, int(left)))
        return result


def reserved_frame(reply: ReserveReply, user: str, qty: int) -> Delivery:
    """The staff's ``room_order`` for a reservation made now (``reply`` is ``new``)."""
    order = reply.order or ReservedOrder("", 0, "")
    event: Event = {
        "type": "room_order",
        "id": reply.answer.order or "",
        "status": "reserved",
        "user": user,
        "product": order.product_id,
        "qty": qty,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
        "source": "sale",
    }
    return Delivery(event, staff=True)


def order_frame(order: Order, status: str | None = None) -> Event:
    """The staff's ``room_order`` for ``order``, in ``status`` (default: the order's own)."""
    return {
        "type": "room_order",
        "id": order.id,
        "status": status or order.status.value,
        "user": order.user,
        "product": order.product_id,
        "qty": order.qty,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
        "source": order.source,
    }


async def tell_staff_of_orders(store: StoreContext, room_id: str, order_ids: list[str]) -> None:
    """One ``room_order`` each for orders a format's script just made (an auction's winner,
    a giveaway's winners), read back from their hashes."""
    for order_id in order_ids:
        raw = await store.client.hgetall(store.keys.order(room_id, order_id))
        if raw:
            frame = order_frame(Order.from_hash(raw))
            await store.bus.publish(room_id, Delivery(frame, staff=True))


def _buy_outcome(reply: ReserveReply) -> str:
    """The buy's label in ``buy_attempts``: reserved, repeat, or the refusal."""
    if reply.kind is ReserveKind.new:
        return "reserved"
    if reply.kind is ReserveKind.repeat:
        return "repeat"
    return str(reply.answer.reason)


def _is_text(value: str) -> bool:
    """Whether ``value`` can be sent to the store (no lone surrogates)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def utc_day(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if at is None else at))
