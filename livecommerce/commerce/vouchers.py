"""Vouchers: an anchor creates, drops, pins and ends them; viewers claim them and spend
a claim on a later buy.

Every claim runs ``vouchers_claim.lua`` (units left, the per-user limit, the watch time
the server measured, idempotency per voucher, user and key: one atomic step), and a buy
spends a claim inside ``sales_reserve.lua``: the named claim, or with ``"best"`` the
buyer's claim worth most on that buy; one claim per order, never stacked. A cancelled
or expired order gives its claim back unused (``orders_settle.lua``). Ending a voucher
stops new claims; claims already taken stay usable until the voucher's ``expires_at``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livecommerce.commerce.models import now_ms
from livecommerce.commerce.orders import analytics_arg
from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.decoding import as_text
from livecommerce.store.lua import ScriptCaller
from livecommerce.store.replies_formats import (
    AnswerKind,
    ClaimRefusal,
    ClaimResult,
    VoucherChange,
    VoucherChangeReply,
    VoucherClaimReply,
)

IDEMPOTENCY_TTL_MS = 86_400_000
# What a voucher id may look like (the server makes ``v_`` + hex); keeping ``:`` and
# braces out keeps an id from naming another key.
VOUCHER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Vouchers listed in a room (GET, the welcome): the newest this many.
LIST_LIMIT = 50


@dataclass(frozen=True)
class VoucherTerms:
    title: str
    discount_cents: int
    percent_off: int
    quantity: int
    per_user_limit: int
    min_spend_cents: int
    watch_s_required: int
    expires_at: int  # ms, 0: never


@dataclass(frozen=True)
class Voucher:
    id: str
    room: str
    title: str
    discount_cents: int
    percent_off: int
    quantity: int
    left: int
    claimed: int
    per_user_limit: int
    min_spend_cents: int
    watch_s_required: int
    expires_at: int
    state: str  # ready, live, ended
    created_at: int
    dropped_at: int | None
    ended_at: int | None

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any]) -> Voucher:
        f = {as_text(k): as_text(v) for k, v in raw.items()}

        def at(name: str) -> int | None:
            return int(f[name]) if f.get(name) else None

        return cls(
            id=f["id"],
            room=f["room"],
            title=f["title"],
            discount_cents=int(f["discount_cents"]),
            percent_off=int(f["percent_off"]),
            quantity=int(f["quantity"]),
            left=int(f["left"]),
            claimed=int(f.get("claimed", "0")),
            per_user_limit=int(f["per_user_limit"]),
            min_spend_cents=int(f["min_spend_cents"]),
            watch_s_required=int(f["watch_s_required"]),
            expires_at=int(f["expires_at"]),
            state=f["state"],
            created_at=int(f["created_at"]),
            dropped_at=at("dropped_at"),
            ended_at=at("ended_at"),
        )

    def status(self, at_ms: int | None = None) -> str:
        """``ready`` (not dropped), ``live``, ``claimed_out`` or ``ended``."""
        now = now_ms() if at_ms is None else at_ms
        if self.state == "ended" or (self.expires_at and now >= self.expires_at):
            return "ended"
        if self.state == "ready":
            return "ready"
        return "claimed_out" if self.left <= 0 else "live"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "room": self.room,
            "title": self.title,
            "discount_cents": self.discount_cents or None,
            "percent_off": self.percent_off or None,
            "quantity": self.quantity,
            "left": self.left,
            "claimed": self.claimed,
            "per_user_limit": self.per_user_limit,
            "min_spend_cents": self.min_spend_cents,
            "watch_s_required": self.watch_s_required,
            "expires_at": self.expires_at or None,
            "status": self.status(),
            "created_at": self.created_at,
            "dropped_at": self.dropped_at,
            "ended_at": self.ended_at,
        }


@dataclass(frozen=True)
class ClaimAnswer:
    result: ClaimResult
    fresh: bool

    def frame(self, key: str) -> dict[str, object]:
        return {"type": "claim_result", "key": key, **self.result.to_json()}


class VoucherService:
    """Vouchers of rooms on the store; claims go through ``batcher`` when given."""

    def __init__(
        self,
        *,
        store: StoreContext,
        batcher: StoreBatcher | None = None,
        analytics: int | None = None,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_MS / 1000,
    ) -> None:
        """``analytics``: ``analytics.exact_users_max`` when claimers are counted, else None."""
        self._analytics = analytics_arg(analytics)
        self._idempotency_ttl_ms = max(1, int(idempotency_ttl_s * 1000))
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._bus = store.bus
        self._claims_counted = store.metrics.format_actions
        self._claim: ScriptCaller = batcher or store.scripts
        self._stock_changed: set[tuple[str, str]] = set()

    async def create(self, room_id: str, terms: VoucherTerms, *, drop: bool = True) -> Voucher:
        voucher_id = f"v_{secrets.token_hex(5)}"
        created = now_ms()
        fields: dict[Any, Any] = {
            "id": voucher_id,
            "room": room_id,
            "title": terms.title,
            "discount_cents": terms.discount_cents,
            "percent_off": terms.percent_off,
            "quantity": terms.quantity,
            "left": terms.quantity,
            "claimed": 0,
            "per_user_limit": terms.per_user_limit,
            "min_spend_cents": terms.min_spend_cents,
            "watch_s_required": terms.watch_s_required,
            "expires_at": terms.expires_at,
            "state": "ready",
            "created_at": created,
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._keys.voucher(room_id, voucher_id), mapping=fields)
        pipe.zadd(self._keys.vouchers(room_id), {voucher_id: created})
        await pipe.execute()
        if drop:
            return await self.change(room_id, voucher_id, "drop")
        return await self.get(room_id, voucher_id)

    async def find(self, room_id: str, voucher_id: str) -> Voucher | None:
        if not VOUCHER_ID.fullmatch(voucher_id):
            return None
        raw = await self._client.hgetall(self._keys.voucher(room_id, voucher_id))
        return Voucher.from_hash(raw) if raw else None

    async def get(self, room_id: str, voucher_id: str) -> Voucher:
        voucher = await self.find(room_id, voucher_id)
        if voucher is None:
            raise ApiError(ErrorCode.voucher_not_found, f"No voucher {voucher_id!r} in this room.")
        return voucher

    async def recent(self, room_id: str) -> list[Voucher]:
        """The room's newest vouchers, newest first."""
        ids = await self._client.zrevrange(self._keys.vouchers(room_id), 0, LIST_LIMIT - 1)
        pipe = self._client.pipeline(transaction=False)
        for voucher_id in ids:
            pipe.hgetall(self._keys.voucher(room_id, as_text(voucher_id)))
        return [Voucher.from_hash(raw) for raw in await pipe.execute() if raw]

    async def active(self, room_id: str) -> list[Voucher]:
        """Dropped vouchers that have not ended (claimable or claimed out)."""
        return [v for v in await self.recent(room_id) if v.status() in ("live", "claimed_out")]

    async def pinned(self, room_id: str) -> str | None:
        raw = await self._client.get(self._keys.pinned_voucher(room_id))
        return as_text(raw) if raw else None

    async def change(self, room_id: str, voucher_id: str, action: str) -> Voucher:
        """Drop (open for claims) or end a voucher; announced once, whoever asks."""
        await self.get(room_id, voucher_id)
        reply = await self._scripts.call(
            VoucherChangeReply, [self._keys.voucher(room_id, voucher_id)], [action]
        )
        if reply.change is VoucherChange.missing:
            raise ApiError(ErrorCode.voucher_not_found, f"No voucher {voucher_id!r} in this room.")
        voucher = await self.get(room_id, voucher_id)
        if reply.change is not VoucherChange.none:
            kind = "voucher_dropped" if reply.change is VoucherChange.dropped else "voucher_ended"
            event = {"type": kind, "voucher": voucher.to_json()}
            await self._bus.publish(room_id, event)
        return voucher

    async def pin(self, room_id: str, voucher_id: str) -> Voucher:
        voucher = await self.get(room_id, voucher_id)
        await self._client.set(self._keys.pinned_voucher(room_id), voucher_id)
        await self._bus.publish(room_id, {"type": "voucher_pinned", "voucher": voucher.to_json()})
        return voucher

    async def claim(self, room_id: str, voucher_id: str, user: str, key: str) -> ClaimAnswer:
        """Take one unit for ``user``; the same user's same key on the same voucher always
        gets the same answer."""
        if not VOUCHER_ID.fullmatch(voucher_id):
            self._claims_counted.inc("claim_voucher_not_found")
            return ClaimAnswer(ClaimResult(reason=ClaimRefusal.voucher_not_found), fresh=False)
        keys = self._keys
        reply = await self._claim.call(
            VoucherClaimReply,
            [
                keys.voucher(room_id, voucher_id),
                keys.voucher_users(room_id, voucher_id),
                keys.voucher_idempotency(room_id, voucher_id),
                keys.voucher_claims(room_id),
                keys.voucher_wallets(room_id),
                keys.room_watch(room_id),
                keys.room_bans(room_id),
                keys.room_counters(room_id),
                keys.analytics_users(room_id, "voucher_claims"),
                keys.analytics_hll(room_id, "voucher_claims"),
            ],
            [
                voucher_id,
                user,
                keys.idempotency_field(user, key),
                f"c_{secrets.token_hex(6)}",
                self._idempotency_ttl_ms,
                self._analytics,
            ],
        )
        fresh = reply.kind is AnswerKind.new
        if fresh:
            self._stock_changed.add((room_id, voucher_id))
        outcome = reply.kind.value if reply.answer.ok else str(reply.answer.reason)
        self._claims_counted.inc(f"claim_{'claimed' if fresh else outcome}")
        return ClaimAnswer(reply.answer, fresh)

    async def claims_of(self, room_id: str, user: str) -> list[dict[str, object]]:
        """The user's claims in the room (unused, used or void), their terms shown as the
        voucher shows them: no expiry, and the discount kind it does not use, are null."""
        raw = await self._client.hget(self._keys.voucher_wallets(room_id), user)
        ids = json.loads(raw) if raw else []
        if not ids:
            return []
        claims = await self._client.hmget(self._keys.voucher_claims(room_id), ids)
        return [_claim_view(json.loads(claim)) for claim in claims if claim]

    async def stock_changes(self) -> list[tuple[str, str, int]]:
        """(room, voucher, units left) for each voucher this node's claims changed."""
        changed, self._stock_changed = self._stock_changed, set()
        result = []
        for room_id, voucher_id in changed:
            left = await self._client.hget(self._keys.voucher(room_id, voucher_id), "left")
            if left is not None:
                result.append((room_id, voucher_id, int(left)))
        return result


def _claim_view(claim: dict[str, object]) -> dict[str, object]:
    """A claim as recorded by ``vouchers_claim.lua`` (0 for "none") with null for "none"."""
    for name in ("expires_at", "percent_off", "discount_cents"):
        if claim.get(name) == 0:
            claim[name] = None
    return claim
