"""What the selling formats' scripts answer (vouchers, auctions, giveaways), as typed
values; see :mod:`livecommerce.store.replies` for the pattern."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from livecommerce.store.reply_fields import ReplyError, choice, integer, items, shown, text


class AnswerKind(StrEnum):
    new = "new"  # done now
    repeat = "repeat"  # the key's recorded answer
    refused = "refused"


def _answer(script: str, raw: object) -> dict[str, object]:
    """A recorded JSON answer: an object with a boolean ``ok``."""
    try:
        body = json.loads(text(script, "answer", raw))
    except json.JSONDecodeError:
        raise ReplyError(f"{script}: the answer is not JSON: {shown(raw)}") from None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        raise ReplyError(f"{script}: not an answer: {shown(body)}")
    return body


def _optional_text(script: str, what: str, body: dict[str, object]) -> str | None:
    value = body.get(what)
    return None if value is None else text(script, what, value)


def _optional_int(script: str, what: str, body: dict[str, object]) -> int | None:
    value = body.get(what)
    return None if value is None else integer(script, what, value)


# Vouchers


class ClaimRefusal(StrEnum):
    banned = "banned"
    voucher_not_found = "voucher_not_found"
    voucher_not_dropped = "voucher_not_dropped"
    voucher_ended = "voucher_ended"
    watch_time_short = "watch_time_short"
    limit_reached = "limit_reached"
    sold_out = "sold_out"


@dataclass(frozen=True)
class ClaimResult:
    """A claim's answer as the claimer sees it: ``{ok: true, claim}`` or ``{ok: false,
    reason}``."""

    claim: str | None = None
    reason: ClaimRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict[str, object]:
        if self.reason is not None:
            return {"ok": False, "reason": self.reason.value}
        return {"ok": True, "claim": self.claim}


@dataclass(frozen=True)
class VoucherClaimReply:
    """``vouchers_claim``: new, repeat or refused, the answer, and the units left (-1
    unless claimed now)."""

    script: ClassVar[str] = "vouchers_claim"
    kind: AnswerKind
    answer: ClaimResult
    left: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        kind, answer, left = items(cls.script, raw, 3)
        body = _answer(cls.script, answer)
        if body["ok"]:
            result = ClaimResult(claim=text(cls.script, "claim", body.get("claim")))
        else:
            result = ClaimResult(
                reason=choice(cls.script, "reason", body.get("reason"), ClaimRefusal)
            )
        return cls(
            choice(cls.script, "kind", kind, AnswerKind),
            result,
            integer(cls.script, "left", left),
        )


class VoucherChange(StrEnum):
    dropped = "dropped"
    ended = "ended"
    none = ""
    missing = "missing"


@dataclass(frozen=True)
class VoucherChangeReply:
    """``vouchers_change``: what changed."""

    script: ClassVar[str] = "vouchers_change"
    change: VoucherChange

    @classmethod
    def parse(cls, raw: object) -> Self:
        (change,) = items(cls.script, raw, 1)
        return cls(choice(cls.script, "change", change, VoucherChange))


# Auctions


class BidRefusal(StrEnum):
    banned = "banned"
    auction_not_found = "auction_not_found"
    auction_ended = "auction_ended"
    already_leading = "already_leading"
    bid_too_low = "bid_too_low"
    outbid = "outbid"  # accepted, but another bidder's maximum is higher


@dataclass(frozen=True)
class BidResult:
    """A bid's answer: accepted (``ok``) or not, whether the bidder leads, the price
    now (when accepted), the reason (refused, or ``outbid`` by a proxy maximum) and the
    least acceptable bid (``bid_too_low``)."""

    ok: bool
    leading: bool
    amount_cents: int | None = None
    reason: BidRefusal | None = None
    min_cents: int | None = None

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"ok": self.ok, "leading": self.leading}
        if self.amount_cents is not None:
            body["amount_cents"] = self.amount_cents
        if self.reason is not None:
            body["reason"] = self.reason.value
        if self.min_cents is not None:
            body["min_cents"] = self.min_cents
        return body


@dataclass(frozen=True)
class AuctionBidReply:
    """``auctions_bid``: new, repeat or refused, the answer, and whether the auction's
    price, leader or end moved."""

    script: ClassVar[str] = "auctions_bid"
    kind: AnswerKind
    answer: BidResult
    changed: bool

    @classmethod
    def parse(cls, raw: object) -> Self:
        kind, answer, changed = items(cls.script, raw, 3)
        body = _answer(cls.script, answer)
        leading = body.get("leading")
        if not isinstance(leading, bool):
            raise ReplyError(f"{cls.script}: leading must be a boolean, got {shown(leading)}")
        reason = body.get("reason")
        result = BidResult(
            ok=bool(body["ok"]),
            leading=leading,
            amount_cents=_optional_int(cls.script, "amount_cents", body),
            reason=None if reason is None else choice(cls.script, "reason", reason, BidRefusal),
            min_cents=_optional_int(cls.script, "min_cents", body),
        )
        return cls(
            choice(cls.script, "kind", kind, AnswerKind),
            result,
            integer(cls.script, "changed", changed) == 1,
        )


class AnnounceOutcome(StrEnum):
    announce = "announce"
    wait = "wait"
    same = "same"


@dataclass(frozen=True)
class AuctionAnnounceReply:
    """``auctions_announce``: whether to broadcast now, and the values to broadcast."""

    script: ClassVar[str] = "auctions_announce"
    outcome: AnnounceOutcome
    price: int
    leader: str
    ends_at: int
    bids: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, price, leader, ends_at, bids = items(cls.script, raw, 5)
        return cls(
            choice(cls.script, "outcome", outcome, AnnounceOutcome),
            integer(cls.script, "price", price),
            text(cls.script, "leader", leader),
            integer(cls.script, "ends_at", ends_at),
            integer(cls.script, "bids", bids),
        )


class CloseOutcome(StrEnum):
    closed = "closed"
    closed_before = "closed_before"
    not_due = "not_due"
    missing = "missing"


@dataclass(frozen=True)
class AuctionCloseReply:
    """``auctions_close``: the outcome, the end (ms), the winner, the price, the
    winner's order and, when nothing was sold, why (``no_bids``, ``reserve_not_met``)."""

    script: ClassVar[str] = "auctions_close"
    outcome: CloseOutcome
    ends_at: int
    winner: str
    amount_cents: int
    order: str
    no_sale: str

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, ends_at, winner, amount, order, no_sale = items(cls.script, raw, 6)
        return cls(
            choice(cls.script, "outcome", outcome, CloseOutcome),
            integer(cls.script, "ends_at", ends_at),
            text(cls.script, "winner", winner),
            integer(cls.script, "amount", amount),
            text(cls.script, "order", order),
            text(cls.script, "reason", no_sale),
        )


# Giveaways


class EnterOutcome(StrEnum):
    entered = "entered"
    repeat = "repeat"
    giveaway_not_found = "giveaway_not_found"
    giveaway_ended = "giveaway_ended"
    banned = "banned"
    watch_time_short = "watch_time_short"
    buyers_only = "buyers_only"
    keyword_required = "keyword_required"


@dataclass(frozen=True)
class GiveawayEnterReply:
    """``giveaways_enter``: entered now, before, or the refusal; the entrants so far."""

    script: ClassVar[str] = "giveaways_enter"
    outcome: EnterOutcome
    entrants: int

    @property
    def ok(self) -> bool:
        return self.outcome in (EnterOutcome.entered, EnterOutcome.repeat)

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, entrants = items(cls.script, raw, 2)
        return cls(
            choice(cls.script, "outcome", outcome, EnterOutcome),
            integer(cls.script, "entrants", entrants),
        )


class GiveawayCloseOutcome(StrEnum):
    closed = "closed"
    drawn = "drawn"
    not_due = "not_due"
    missing = "missing"


@dataclass(frozen=True)
class GiveawayCloseReply:
    """``giveaways_close``: the outcome, the end (ms), and when closed the seed and the
    entrants (in no order)."""

    script: ClassVar[str] = "giveaways_close"
    outcome: GiveawayCloseOutcome
    ends_at: int
    seed: str
    entrants: list[str]

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, ends_at, seed, entrants = items(cls.script, raw, 4)
        if not isinstance(entrants, list):
            raise ReplyError(f"{cls.script}: entrants must be a list, got {shown(entrants)}")
        return cls(
            choice(cls.script, "outcome", outcome, GiveawayCloseOutcome),
            integer(cls.script, "ends_at", ends_at),
            text(cls.script, "seed", seed),
            [text(cls.script, "entrant", user) for user in entrants],
        )


class AwardOutcome(StrEnum):
    drawn = "drawn"
    drawn_before = "drawn_before"
    not_closed = "not_closed"


@dataclass(frozen=True)
class GiveawayAwardReply:
    """``giveaways_award``: the outcome, the recorded winners and their orders."""

    script: ClassVar[str] = "giveaways_award"
    outcome: AwardOutcome
    winners: list[str]
    orders: list[str]

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, winners, orders = items(cls.script, raw, 3)
        return cls(
            choice(cls.script, "outcome", outcome, AwardOutcome),
            _text_list(cls.script, "winners", winners),
            _text_list(cls.script, "orders", orders),
        )


def _text_list(script: str, what: str, raw: object) -> list[str]:
    try:
        values = json.loads(text(script, what, raw))
    except json.JSONDecodeError:
        raise ReplyError(f"{script}: {what} is not JSON: {shown(raw)}") from None
    if isinstance(values, dict) and not values:
        return []  # Lua's cjson writes an empty table as {}
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ReplyError(f"{script}: {what} must be a list of text, got {shown(values)}")
    return values
