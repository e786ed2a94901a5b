"""Live auctions: increment tables, proxy (maximum) bids, anti-snipe or sudden death,
exactly one winner.

Every bid runs ``auctions_bid.lua``: the store's clock decides whether the auction is
still open, the increment table the least acceptable bid, and a proxy maximum bids for
its owner one step at a time; the same user's same key always gets the same answer.
The close (``auctions_close.lua``) happens once, whichever nodes try, and gives the
leader a reserved order (``source: "auction"``) with its ``order.created`` outbox entry
in the same step when the price reaches the reserve. Nodes announce price changes at
most once per ``formats.bid_broadcast_interval_s`` per auction, over all nodes
(``auctions_announce.lua``); every bidder gets their own ``bid_result`` at once.

Answers first: while bids of an auction wait for their answers on this node, its
announcement waits too (at most ``ANSWERS_FIRST_MAX_INTERVALS`` intervals), so in a
burst of bids the broadcast to every socket of the room goes out after the bidders'
answers instead of between them.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livecommerce.commerce.models import Product, now_ms
from livecommerce.commerce.orders import (
    DAILY_BUYERS_TTL_S,
    analytics_arg,
    tell_staff_of_orders,
    utc_day,
)
from livecommerce.config import FormatsSettings
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.decoding import as_text
from livecommerce.store.lua import ScriptCaller
from livecommerce.store.replies_formats import (
    AnnounceOutcome,
    AnswerKind,
    AuctionAnnounceReply,
    AuctionBidReply,
    AuctionCloseReply,
    BidRefusal,
    BidResult,
    CloseOutcome,
)

IDEMPOTENCY_TTL_MS = 86_400_000
# What an auction id may look like (the server makes ``a_`` + hex); see VOUCHER_ID.
AUCTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LIST_LIMIT = 50
DUE_BATCH = 100
Increments = tuple[tuple[int, int], ...]


def step_above(increments: Increments, cents: int) -> int:
    """The increment at price ``cents``: the step of the last row starting at or below it
    (the same rule as ``auctions_bid.lua``)."""
    found = increments[0][1]
    for start, step in increments:
        if start <= cents:
            found = step
    return found


@dataclass(frozen=True)
class AuctionTerms:
    product: Product
    start_price_cents: int
    reserve_cents: int
    duration_s: int
    increments: Increments
    anti_snipe_s: int
    sudden_death: bool


@dataclass(frozen=True)
class Auction:
    id: str
    room: str
    product_id: str
    title: str
    currency: str
    start_price_cents: int
    reserve_cents: int
    increments: Increments
    anti_snipe_s: int
    sudden_death: bool
    starts_at: int
    ends_at: int
    state: str  # open, ended
    price: int
    leader: str | None
    bids: int
    winner: str | None
    order: str | None
    no_sale: str | None

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any]) -> Auction:
        f = {as_text(k): as_text(v) for k, v in raw.items()}
        return cls(
            id=f["id"],
            room=f["room"],
            product_id=f["product_id"],
            title=f["title"],
            currency=f["currency"],
            start_price_cents=int(f["start_price_cents"]),
            reserve_cents=int(f["reserve_cents"]),
            increments=tuple((int(a), int(b)) for a, b in json.loads(f["increments"])),
            anti_snipe_s=int(f["anti_snipe_s"]),
            sudden_death=f["sudden_death"] == "1",
            starts_at=int(f["starts_at"]),
            ends_at=int(f["ends_at"]),
            state=f["state"],
            price=int(f["price"]),
            leader=f.get("leader") or None,
            bids=int(f.get("bids", "0")),
            winner=f.get("winner") or None,
            order=f.get("order") or None,
            no_sale=f.get("no_sale") or None,
        )

    @property
    def min_next_cents(self) -> int:
        """The least bid the auction takes now."""
        if self.leader is None:
            return self.start_price_cents
        return self.price + step_above(self.increments, self.price)

    def status(self, at_ms: int | None = None) -> str:
        """``open`` or ``ended`` (by the clock, even before the close has run)."""
        now = now_ms() if at_ms is None else at_ms
        return "ended" if self.state == "ended" or now >= self.ends_at else "open"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "room": self.room,
            "product_id": self.product_id,
            "title": self.title,
            "currency": self.currency,
            "start_price_cents": self.start_price_cents,
            "has_reserve": self.reserve_cents > 0,
            "reserve_met": self.leader is not None and self.price >= self.reserve_cents,
            "increment_table": [list(row) for row in self.increments],
            "anti_snipe_s": self.anti_snipe_s,
            "sudden_death": self.sudden_death,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "status": self.status(),
            "amount_cents": self.price if self.leader else None,
            "leader": self.leader,
            "bids": self.bids,
            "min_next_cents": self.min_next_cents,
            "winner": self.winner,
            "order": self.order,
            "no_sale": self.no_sale,
        }


@dataclass(frozen=True)
class BidAnswer:
    auction: str
    result: BidResult

    def frame(self, key: str) -> dict[str, object]:
        return {"type": "bid_result", "key": key, "auction": self.auction, **self.result.to_json()}


# How long (in broadcast intervals) an announcement may wait for the answers of bids in
# flight on this node (see the module docstring).
ANSWERS_FIRST_MAX_INTERVALS = 5


class AuctionService:
    """Auctions of rooms on the store; bids go through ``batcher`` when given."""

    def __init__(
        self,
        *,
        store: StoreContext,
        settings: FormatsSettings,
        batcher: StoreBatcher | None = None,
        analytics: int | None = None,
        daily_buyers_ttl_s: float = DAILY_BUYERS_TTL_S,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_MS / 1000,
    ) -> None:
        """``analytics``: ``analytics.exact_users_max`` when bidders and the winners'
        orders are counted, else None."""
        self._analytics = analytics_arg(analytics)
        self._daily_buyers_ttl_s = max(1, int(daily_buyers_ttl_s))
        self._idempotency_ttl_ms = max(1, int(idempotency_ttl_s * 1000))
        self._store = store
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._money = store.money
        self._bus = store.bus
        self._settings = settings
        self._counted = store.metrics.format_actions
        self._bid_seconds = store.metrics.bid_seconds
        self._bid: ScriptCaller = batcher or store.scripts
        self._changed: set[tuple[str, str]] = set()
        self._bidding: Counter[tuple[str, str]] = Counter()  # bids awaiting their answer
        # Since when an announcement waits for the answers of bids in flight (monotonic).
        self._deferred_since: dict[tuple[str, str], float] = {}

    async def create(self, room_id: str, terms: AuctionTerms) -> Auction:
        auction_id = f"a_{secrets.token_hex(5)}"
        created = now_ms()
        ends_at = created + terms.duration_s * 1000
        fields: dict[Any, Any] = {
            "id": auction_id,
            "room": room_id,
            "product_id": terms.product.id,
            "title": terms.product.title,
            "currency": terms.product.currency,
            "start_price_cents": terms.start_price_cents,
            "reserve_cents": terms.reserve_cents,
            "increments": json.dumps([list(row) for row in terms.increments]),
            "anti_snipe_s": terms.anti_snipe_s,
            "sudden_death": "1" if terms.sudden_death else "0",
            "payment_ttl_s": self._settings.auction_payment_ttl_s,
            "starts_at": created,
            "ends_at": ends_at,
            "state": "open",
            "price": 0,
            "bids": 0,
            "version": 0,
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._keys.auction(room_id, auction_id), mapping=fields)
        pipe.zadd(self._keys.auctions(room_id), {auction_id: created})
        await pipe.execute()
        await self._client.sadd(self._keys.outboxes(), room_id)
        await self._client.sadd(self._keys.reserving_rooms(), room_id)
        await self._client.zadd(self._keys.auctions_clock(), {f"{room_id} {auction_id}": ends_at})
        auction = await self.get(room_id, auction_id)
        await self._bus.publish(room_id, {"type": "auction_started", "auction": auction.to_json()})
        return auction

    async def find(self, room_id: str, auction_id: str) -> Auction | None:
        if not AUCTION_ID.fullmatch(auction_id):
            return None
        raw = await self._client.hgetall(self._keys.auction(room_id, auction_id))
        return Auction.from_hash(raw) if raw else None

    async def get(self, room_id: str, auction_id: str) -> Auction:
        auction = await self.find(room_id, auction_id)
        if auction is None:
            raise ApiError(ErrorCode.auction_not_found, f"No auction {auction_id!r} in this room.")
        return auction

    async def recent(self, room_id: str) -> list[Auction]:
        ids = await self._client.zrevrange(self._keys.auctions(room_id), 0, LIST_LIMIT - 1)
        pipe = self._client.pipeline(transaction=False)
        for auction_id in ids:
            pipe.hgetall(self._keys.auction(room_id, as_text(auction_id)))
        return [Auction.from_hash(raw) for raw in await pipe.execute() if raw]

    async def active(self, room_id: str) -> list[Auction]:
        return [a for a in await self.recent(room_id) if a.state == "open"]

    async def bid(
        self, room_id: str, auction_id: str, user: str, amount: int, maximum: int, key: str
    ) -> BidAnswer:
        """Bid ``amount`` (and bid up to ``maximum`` for the user, 0: no proxy); the same
        user's same key on the same auction always gets the same answer."""
        started = time.perf_counter()
        if not AUCTION_ID.fullmatch(auction_id):
            self._counted.inc("bid_auction_not_found")
            refused = BidResult(ok=False, leading=False, reason=BidRefusal.auction_not_found)
            return BidAnswer(auction_id, refused)
        bidding = (room_id, auction_id)
        self._bidding[bidding] += 1
        try:
            reply = await self._call_bid(room_id, auction_id, user, amount, maximum, key)
        finally:
            self._bidding[bidding] -= 1
            if not self._bidding[bidding]:
                del self._bidding[bidding]
        if reply.changed:
            self._changed.add((room_id, auction_id))
        answer = reply.answer
        if reply.kind is AnswerKind.repeat:
            outcome = "repeat"
        elif answer.ok:
            outcome = "leading" if answer.leading else "outbid"
        else:
            outcome = str(answer.reason)
        self._counted.inc(f"bid_{outcome}")
        self._bid_seconds.observe(time.perf_counter() - started)
        return BidAnswer(auction_id, answer)

    async def _call_bid(
        self, room_id: str, auction_id: str, user: str, amount: int, maximum: int, key: str
    ) -> AuctionBidReply:
        keys = self._keys
        return await self._bid.call(
            AuctionBidReply,
            [
                keys.auction(room_id, auction_id),
                keys.auction_idempotency(room_id, auction_id),
                keys.room_bans(room_id),
                keys.room_counters(room_id),
                keys.analytics_users(room_id, "bids"),
                keys.analytics_hll(room_id, "bids"),
            ],
            [
                user,
                amount,
                maximum,
                keys.idempotency_field(user, key),
                self._idempotency_ttl_ms,
                self._analytics,
            ],
        )

    async def announce_changes(self) -> None:
        """Broadcast ``auction_bid`` for the auctions this node's bids changed, each at
        most once per interval over all nodes; those refused for now wait a tick."""
        changed, self._changed = self._changed, set()
        interval_s = self._settings.bid_broadcast_interval_s
        interval_ms = int(interval_s * 1000)
        now = time.monotonic()
        for room_id, auction_id in changed:
            key = (room_id, auction_id)
            if key in self._bidding:
                since = self._deferred_since.setdefault(key, now)
                if now - since < ANSWERS_FIRST_MAX_INTERVALS * interval_s:
                    self._changed.add(key)  # answers first
                    continue
            self._deferred_since.pop(key, None)
            reply = await self._scripts.call(
                AuctionAnnounceReply, [self._keys.auction(room_id, auction_id)], [interval_ms]
            )
            if reply.outcome is AnnounceOutcome.wait:
                self._changed.add((room_id, auction_id))
                continue
            if reply.outcome is AnnounceOutcome.announce:
                await self._client.zadd(
                    self._keys.auctions_clock(), {f"{room_id} {auction_id}": reply.ends_at}
                )
                auction = await self.get(room_id, auction_id)
                event = {
                    "type": "auction_bid",
                    "auction": auction_id,
                    "leader": reply.leader,
                    "amount_cents": reply.price,
                    "ends_at": reply.ends_at,
                    "bids": reply.bids,
                    "min_next_cents": auction.min_next_cents,
                }
                await self._bus.publish(room_id, event)

    async def end(self, room_id: str, auction_id: str) -> Auction:
        """Close the auction now: the leader wins if the reserve is met."""
        await self.get(room_id, auction_id)
        await self.close(room_id, auction_id, force=True)
        return await self.get(room_id, auction_id)

    async def close(self, room_id: str, auction_id: str, *, force: bool = False) -> None:
        """Close the auction if its end has passed (or now, with ``force``) and announce
        it; the node whose clock removal succeeds announces, so it is announced once."""
        order_id = f"{room_id}-{secrets.token_hex(6)}"
        keys = self._keys
        reply = await self._money.call(
            AuctionCloseReply,
            [
                keys.auction(room_id, auction_id),
                keys.order(room_id, order_id),
                keys.reservations(room_id),
                keys.outbox(room_id),
                keys.room_other_buyers(room_id),
                keys.room_counters(room_id),
                keys.analytics(room_id),
            ],
            [room_id, order_id, "1" if force else "0", self._analytics],
        )
        member = f"{room_id} {auction_id}"
        if reply.outcome is CloseOutcome.not_due:
            await self._client.zadd(keys.auctions_clock(), {member: reply.ends_at})
            return
        removed = await self._client.zrem(keys.auctions_clock(), member)
        if reply.outcome is CloseOutcome.missing or not removed:
            return
        if reply.outcome is CloseOutcome.closed:
            self._counted.inc("auction_sold" if reply.winner else "auction_no_sale")
        if reply.winner:
            day_key = keys.daily_buyers(utc_day())
            if await self._client.pfadd(day_key, reply.winner):
                await self._client.expire(day_key, self._daily_buyers_ttl_s)
        event: dict[str, object] = {
            "type": "auction_ended",
            "auction": auction_id,
            "winner": reply.winner or None,
            "amount_cents": reply.amount_cents,
            "order": reply.order or None,
        }
        if reply.no_sale:
            event["reason"] = reply.no_sale
        await self._bus.publish(room_id, event)
        if reply.order:
            await tell_staff_of_orders(self._store, room_id, [reply.order])

    async def close_due(self) -> int:
        """Close every auction whose end has passed; the number looked at."""
        due = await self._client.zrangebyscore(
            self._keys.auctions_clock(), 0, now_ms(), 0, DUE_BATCH
        )
        for member in due:
            room_id, _, auction_id = as_text(member).partition(" ")
            await self.close(room_id, auction_id)
        return len(due)
