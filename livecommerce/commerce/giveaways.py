"""Giveaways with a provably fair draw (commit–reveal, :mod:`livecommerce.commerce.draw`).

At creation the server draws a secret seed and publishes its SHA-256 commitment. Entries
run ``giveaways_enter.lua``: open by the store's clock, once per user across nodes, and
only for eligible users (watch time measured by the server, buyers only, the keyword typed
in chat). At the end ``giveaways_close.lua`` freezes the entrants and hands back the seed;
the winners are computed from the seed and the sorted entrants, and
``giveaways_award.lua`` records them once with a paid order at price 0 each
(``source: "giveaway"``, ``order.created`` and ``order.paid`` in the outbox). Any node
can finish a draw another node started: the computation is deterministic.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livecommerce.auth import valid_identifier
from livecommerce.commerce import draw
from livecommerce.commerce.models import now_ms
from livecommerce.commerce.orders import analytics_arg, tell_staff_of_orders
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.decoding import as_text
from livecommerce.store.replies_formats import (
    AwardOutcome,
    EnterOutcome,
    GiveawayAwardReply,
    GiveawayCloseOutcome,
    GiveawayCloseReply,
    GiveawayEnterReply,
)

LIST_LIMIT = 50
DUE_BATCH = 20
# How long a node trusts its list of a room's giveaway keywords before reading it again.
KEYWORDS_FRESH_S = 1.0
SAID_TTL_S = 86_400
OWN_PART = re.compile(r"g[0-9a-f]{1,32}")


def room_of_giveaway(giveaway_id: str) -> str | None:
    """Giveaway ids are ``ROOM-gHEX``: the room is everything before the last dash (None
    for what cannot be a giveaway id)."""
    room, dash, rest = giveaway_id.rpartition("-")
    if not (dash and OWN_PART.fullmatch(rest) and valid_identifier(room)):
        return None
    return room


@dataclass(frozen=True)
class GiveawayTerms:
    title: str
    winners: int
    duration_s: int
    product_id: str
    currency: str
    watch_s: int
    buyers_only: bool
    keyword: str


@dataclass(frozen=True)
class Giveaway:
    id: str
    room: str
    title: str
    winners_wanted: int
    product_id: str | None
    watch_s: int
    buyers_only: bool
    keyword: str
    commitment: str
    seed: str
    state: str  # open, closed (entries frozen, drawing), drawn
    created_at: int
    ends_at: int
    winners: list[str]
    orders: list[str]

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any]) -> Giveaway:
        f = {as_text(k): as_text(v) for k, v in raw.items()}
        return cls(
            id=f["id"],
            room=f["room"],
            title=f["title"],
            winners_wanted=int(f["winners_wanted"]),
            product_id=f.get("product_id") or None,
            watch_s=int(f["watch_s"]),
            buyers_only=f["buyers_only"] == "1",
            keyword=f["keyword"],
            commitment=f["commitment"],
            seed=f["seed"],
            state=f["state"],
            created_at=int(f["created_at"]),
            ends_at=int(f["ends_at"]),
            winners=json.loads(f["winners"]) if f.get("winners") else [],
            orders=json.loads(f["orders"]) if f.get("orders") else [],
        )

    def status(self) -> str:
        """``open``, ``drawing`` (entries closed, winners not yet recorded) or ``ended``."""
        if self.state == "drawn":
            return "ended"
        if self.state == "closed" or now_ms() >= self.ends_at:
            return "drawing"
        return "open"

    def to_json(self) -> dict[str, object]:
        """The giveaway as anyone may see it: the seed only once the winners are drawn."""
        drawn = self.state == "drawn"
        return {
            "id": self.id,
            "room": self.room,
            "title": self.title,
            "winners_wanted": self.winners_wanted,
            "product_id": self.product_id,
            "eligibility": {
                "watch_s": self.watch_s,
                "buyers_only": self.buyers_only,
                "keyword": self.keyword or None,
            },
            "commitment": self.commitment,
            "algorithm": "hmac-sha256-fisher-yates-v1",
            "status": self.status(),
            "created_at": self.created_at,
            "ends_at": self.ends_at,
            "seed": self.seed if drawn else None,
            "winners": self.winners if drawn else None,
            "orders": self.orders if drawn else None,
        }


class GiveawayService:
    def __init__(
        self,
        *,
        store: StoreContext,
        order_retention_s: float,
        ended_entrants_max: int = 1_000,
        analytics: int | None = None,
    ) -> None:
        """``analytics``: ``analytics.exact_users_max`` when entrants and the winners'
        orders are counted, else None."""
        self._analytics = analytics_arg(analytics)
        self._store = store
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._money = store.money
        self._bus = store.bus
        self._counted = store.metrics.format_actions
        self._retention_ms = int(order_retention_s * 1000)
        self._ended_entrants_max = ended_entrants_max
        self._keywords: dict[str, tuple[float, list[tuple[str, str]]]] = {}

    async def create(self, room_id: str, terms: GiveawayTerms) -> Giveaway:
        giveaway_id = f"{room_id}-g{secrets.token_hex(5)}"
        seed = draw.new_seed()
        created = now_ms()
        ends_at = created + terms.duration_s * 1000
        fields: dict[Any, Any] = {
            "id": giveaway_id,
            "room": room_id,
            "title": terms.title,
            "winners_wanted": terms.winners,
            "product_id": terms.product_id,
            "currency": terms.currency,
            "watch_s": terms.watch_s,
            "buyers_only": "1" if terms.buyers_only else "0",
            "keyword": terms.keyword,
            "seed": seed,
            "commitment": draw.commitment(seed),
            "state": "open",
            "created_at": created,
            "ends_at": ends_at,
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._keys.giveaway(room_id, giveaway_id), mapping=fields)
        pipe.zadd(self._keys.giveaways(room_id), {giveaway_id: created})
        await pipe.execute()
        await self._client.sadd(self._keys.outboxes(), room_id)
        await self._client.zadd(self._keys.giveaways_clock(), {f"{room_id} {giveaway_id}": ends_at})
        self._keywords.pop(room_id, None)
        giveaway = await self.get(giveaway_id)
        await self._bus.publish(
            room_id, {"type": "giveaway_started", "giveaway": giveaway.to_json()}
        )
        return giveaway

    async def find(self, giveaway_id: str) -> Giveaway | None:
        room_id = room_of_giveaway(giveaway_id)
        if room_id is None:
            return None
        raw = await self._client.hgetall(self._keys.giveaway(room_id, giveaway_id))
        return Giveaway.from_hash(raw) if raw else None

    async def get(self, giveaway_id: str) -> Giveaway:
        giveaway = await self.find(giveaway_id)
        if giveaway is None:
            raise ApiError(ErrorCode.giveaway_not_found, f"No giveaway {giveaway_id!r}.")
        return giveaway

    async def recent(self, room_id: str) -> list[Giveaway]:
        ids = await self._client.zrevrange(self._keys.giveaways(room_id), 0, LIST_LIMIT - 1)
        pipe = self._client.pipeline(transaction=False)
        for giveaway_id in ids:
            pipe.hgetall(self._keys.giveaway(room_id, as_text(giveaway_id)))
        return [Giveaway.from_hash(raw) for raw in await pipe.execute() if raw]

    async def active(self, room_id: str) -> list[Giveaway]:
        return [g for g in await self.recent(room_id) if g.state != "drawn"]

    async def entrants(self, giveaway: Giveaway) -> list[str]:
        """Every entrant, sorted as the draw sorts them."""
        raw = await self._client.smembers(self._keys.giveaway_entrants(giveaway.room, giveaway.id))
        return sorted(as_text(user) for user in raw)

    async def enter(self, room_id: str, giveaway_id: str, user: str) -> GiveawayEnterReply:
        """Enter ``user`` once; entering again answers ``repeat`` (still entered)."""
        keys = self._keys
        if room_of_giveaway(giveaway_id) != room_id:
            return GiveawayEnterReply(EnterOutcome.giveaway_not_found, 0)
        reply = await self._scripts.call(
            GiveawayEnterReply,
            [
                keys.giveaway(room_id, giveaway_id),
                keys.giveaway_entrants(room_id, giveaway_id),
                keys.giveaway_said(room_id, giveaway_id),
                keys.room_watch(room_id),
                keys.room_buyers(room_id),
                keys.room_bans(room_id),
                keys.room_counters(room_id),
                keys.analytics_users(room_id, "giveaway_entries"),
                keys.analytics_hll(room_id, "giveaway_entries"),
                keys.room_other_buyers(room_id),
            ],
            [user, self._analytics],
        )
        self._counted.inc(f"enter_{reply.outcome.value}")
        return reply

    async def note_chat(self, room_id: str, user: str, text: str) -> None:
        """Remember that ``user`` typed an open giveaway's keyword (case-insensitive, as
        part of the message) in the room's chat."""
        keywords = await self._room_keywords(room_id)
        if not keywords:
            return
        said = text.casefold()
        for giveaway_id, keyword in keywords:
            if keyword.casefold() in said:
                key = self._keys.giveaway_said(room_id, giveaway_id)
                await self._client.sadd(key, user)
                await self._client.expire(key, SAID_TTL_S)

    async def _room_keywords(self, room_id: str) -> list[tuple[str, str]]:
        cached = self._keywords.get(room_id)
        if cached is not None and time.monotonic() - cached[0] < KEYWORDS_FRESH_S:
            return cached[1]
        keywords = [(g.id, g.keyword) for g in await self.active(room_id) if g.keyword]
        if len(self._keywords) > 10_000:
            self._keywords.clear()
        self._keywords[room_id] = (time.monotonic(), keywords)
        return keywords

    async def end(self, giveaway_id: str) -> Giveaway:
        giveaway = await self.get(giveaway_id)
        await self.finish(giveaway.room, giveaway.id, force=True)
        return await self.get(giveaway_id)

    async def finish(self, room_id: str, giveaway_id: str, *, force: bool = False) -> None:
        """Close entries if due (now, with ``force``), draw, record and announce once."""
        keys = self._keys
        closed = await self._scripts.call(
            GiveawayCloseReply,
            [keys.giveaway(room_id, giveaway_id), keys.giveaway_entrants(room_id, giveaway_id)],
            ["1" if force else "0"],
        )
        member = f"{room_id} {giveaway_id}"
        if closed.outcome is GiveawayCloseOutcome.missing:
            await self._client.zrem(keys.giveaways_clock(), member)
            return
        if closed.outcome is GiveawayCloseOutcome.not_due:
            await self._client.zadd(keys.giveaways_clock(), {member: closed.ends_at})
            return
        if closed.outcome is GiveawayCloseOutcome.closed:
            giveaway = await self.get(giveaway_id)
            winners = draw.draw(closed.seed, closed.entrants, giveaway.winners_wanted)
            order_ids = [f"{room_id}-{secrets.token_hex(6)}" for _ in winners]
            award = await self._money.call(
                GiveawayAwardReply,
                [
                    keys.giveaway(room_id, giveaway_id),
                    keys.outbox(room_id),
                    keys.room_counters(room_id),
                    keys.analytics(room_id),
                    *(keys.order(room_id, order_id) for order_id in order_ids),
                ],
                [
                    room_id,
                    json.dumps(winners),
                    json.dumps(order_ids),
                    self._retention_ms,
                    self._analytics,
                ],
            )
            if award.outcome is AwardOutcome.drawn:
                self._counted.inc("giveaway_drawn")
        if not await self._client.zrem(keys.giveaways_clock(), member):
            return
        giveaway = await self.get(giveaway_id)
        if giveaway.state != "drawn":
            return
        await self._bus.publish(room_id, await self._ended_frame(giveaway))
        await tell_staff_of_orders(self._store, room_id, giveaway.orders)

    async def _ended_frame(self, giveaway: Giveaway) -> dict[str, object]:
        """``giveaway_ended``: the entrants' sorted list (the draw's pool) when there are at
        most ``ended_entrants_max``, else ``entrants_truncated``; ``entrants_count`` always."""
        key = self._keys.giveaway_entrants(giveaway.room, giveaway.id)
        count = int(await self._client.scard(key))
        frame: dict[str, object] = {
            "type": "giveaway_ended",
            "giveaway": giveaway.id,
            "winners": giveaway.winners,
            "seed": giveaway.seed,
            "commitment": giveaway.commitment,
            "entrants_count": count,
        }
        if count <= self._ended_entrants_max:
            frame["entrants"] = await self.entrants(giveaway) if count else []
        else:
            frame["entrants_truncated"] = True
        return frame

    async def finish_due(self) -> int:
        due = await self._client.zrangebyscore(
            self._keys.giveaways_clock(), 0, now_ms(), 0, DUE_BATCH
        )
        for member in due:
            room_id, _, giveaway_id = as_text(member).partition(" ")
            await self.finish(room_id, giveaway_id)
        return len(due)
