"""What each Lua script answers, as typed values: one reply type per script.

A reply type names its script (``script``) and parses the script's raw answer
(``parse``), mirroring the ``Returns`` line of the script's header. Services call
``ScriptRunner.call(ReserveReply, keys, args)`` (or a batcher's ``call``) and get the
typed value; no caller unpacks positional tuples or decodes bytes itself. An answer
of another shape — a script and its parser out of step, a key of the wrong type —
raises :class:`ReplyError` naming the script and what was wrong.

A new area's reply types go in ``replies_<area>.py`` beside this module, built with
:mod:`livecommerce.store.reply_fields`; the reply-type tests find them there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import ClassVar, Self

from livecommerce.store.decoding import StreamEntry
from livecommerce.store.reply_fields import INTEGER as INTEGER
from livecommerce.store.reply_fields import R as R
from livecommerce.store.reply_fields import ReplyError as ReplyError
from livecommerce.store.reply_fields import ScriptReply as ScriptReply
from livecommerce.store.reply_fields import choice as _choice
from livecommerce.store.reply_fields import code as _code
from livecommerce.store.reply_fields import integer as _int
from livecommerce.store.reply_fields import items as _items
from livecommerce.store.reply_fields import shown as _shown
from livecommerce.store.reply_fields import text as _text

# Rooms


@dataclass(frozen=True)
class RoomsCreateReply:
    """``rooms_create``: whether the room was created (False: the id is taken)."""

    script: ClassVar[str] = "rooms_create"
    created: bool

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(_int(cls.script, "answer", raw) == 1)


class GoLive(IntEnum):
    went_live = 1
    already_live = 0
    no_room = -1
    room_ended = -2


@dataclass(frozen=True)
class RoomsGoLiveReply:
    script: ClassVar[str] = "rooms_go_live"
    outcome: GoLive

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(_code(cls.script, raw, GoLive))


class GoOffline(IntEnum):
    went_offline = 1
    not_this_session = 0
    no_room = -1


@dataclass(frozen=True)
class RoomsGoOfflineReply:
    script: ClassVar[str] = "rooms_go_offline"
    outcome: GoOffline

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(_code(cls.script, raw, GoOffline))


@dataclass(frozen=True)
class RoomsLiveHeartbeatReply:
    """``rooms_live_heartbeat``: False when the room is not live with the session any more."""

    script: ClassVar[str] = "rooms_live_heartbeat"
    refreshed: bool

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(_int(cls.script, "answer", raw) == 1)


class RoomEnd(IntEnum):
    ended = 1
    already_ended = 0
    no_room = -1
    sales_changed = -2  # a sale was created since the caller listed them: list again


@dataclass(frozen=True)
class RoomsEndReply:
    script: ClassVar[str] = "rooms_end"
    outcome: RoomEnd

    @classmethod
    def parse(cls, raw: object) -> Self:
        return cls(_code(cls.script, raw, RoomEnd))


# Channel: chat, likes, viewers


class ChatRefusal(StrEnum):
    banned = "banned"
    room_muted = "room_muted"
    muted = "muted"
    slow_mode = "slow_mode"
    rate_limited = "rate_limited"
    buyers_only = "buyers_only"


@dataclass(frozen=True)
class ChatPostReply:
    """``chat_post``: the new message's id and time (ms), or, when automod held it, the
    review item's id, time and ``held_rule``; or ``refusal`` and until when (ms; 0 when it
    does not end at a known time) with no id."""

    script: ClassVar[str] = "chat_post"
    message_id: str
    refusal: ChatRefusal | None
    at_ms: int
    held_rule: str = ""

    @classmethod
    def parse(cls, raw: object) -> Self:
        if isinstance(raw, list) and len(raw) == 4:
            outcome, detail, at, rule = raw
            if _text(cls.script, "outcome", outcome) != "held":
                raise ReplyError(f"{cls.script}: unknown answer {_shown(raw)}")
            return cls(
                _text(cls.script, "held id", detail),
                None,
                _int(cls.script, "ts", at),
                _text(cls.script, "rule", rule),
            )
        outcome, detail, at = _items(cls.script, raw, 3)
        outcome = _text(cls.script, "outcome", outcome)
        if outcome == "ok":
            return cls(_text(cls.script, "message id", detail), None, _int(cls.script, "ts", at))
        if outcome != "err":
            raise ReplyError(f"{cls.script}: unknown outcome {outcome!r}")
        refusal = _choice(cls.script, "refusal", detail, ChatRefusal)
        return cls("", refusal, _int(cls.script, "until", at))


@dataclass(frozen=True)
class LikesAddReply:
    """``likes_add``: the room's like total, the likes kept, those counted for discovery."""

    script: ClassVar[str] = "likes_add"
    total: int
    kept: int
    counted: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        total, kept, counted = _items(cls.script, raw, 3)
        return cls(
            _int(cls.script, "total", total),
            _int(cls.script, "kept", kept),
            _int(cls.script, "counted", counted),
        )


@dataclass(frozen=True)
class PresenceReportReply:
    """``presence_report``: the room's viewers over live nodes, and the peak."""

    script: ClassVar[str] = "presence_report"
    total: int
    peak: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        total, peak = _items(cls.script, raw, 2)
        return cls(_int(cls.script, "total", total), _int(cls.script, "peak", peak))


@dataclass(frozen=True)
class DiscoveryCountsReply:
    """``discovery_counts``: a room's chat messages, likes and orders over the window."""

    script: ClassVar[str] = "discovery_counts"
    chat: int
    likes: int
    orders: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        chat, likes, orders = _items(cls.script, raw, 3)
        return cls(
            _int(cls.script, "chat", chat),
            _int(cls.script, "likes", likes),
            _int(cls.script, "orders", orders),
        )


# Moderation


@dataclass(frozen=True)
class ModerationActReply:
    """``moderation_act``: until when the action holds (ms; -1 until undone, 0 no end) and
    the audit entry's id, or the refusal code."""

    script: ClassVar[str] = "moderation_act"
    until_ms: int
    audit_id: str
    refusal: str | None = None

    @classmethod
    def parse(cls, raw: object) -> Self:
        items = _items(cls.script, raw, 2, 3)
        outcome = _text(cls.script, "outcome", items[0])
        if outcome == "err" and len(items) == 2:
            return cls(0, "", _text(cls.script, "refusal", items[1]))
        if outcome != "ok" or len(items) != 3:
            raise ReplyError(f"{cls.script}: unknown answer {_shown(raw)}")
        return cls(_int(cls.script, "until", items[1]), _text(cls.script, "audit id", items[2]))


# Commerce


class BuyRefusal(StrEnum):
    banned = "banned"
    sale_not_found = "sale_not_found"
    sale_not_started = "sale_not_started"
    sale_ended = "sale_ended"
    limit_reached = "limit_reached"
    sold_out = "sold_out"
    not_enough_stock = "not_enough_stock"
    voucher_not_usable = "voucher_not_usable"  # not the buyer's, used, expired, unknown
    min_spend_not_met = "min_spend_not_met"


@dataclass(frozen=True)
class BuyResult:
    """The answer to a buy, as the buyer sees it and as the sale's idempotency record keeps
    it (JSON): ``{ok: true, order, expires_at}`` or ``{ok: false, reason}``."""

    order: str | None = None
    expires_at: int | None = None
    reason: BuyRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @classmethod
    def refused(cls, reason: BuyRefusal) -> BuyResult:
        return cls(reason=reason)

    @classmethod
    def from_json(cls, raw: object, script: str = "sales_reserve") -> BuyResult:
        """A recorded answer; :class:`ReplyError` when it is not one."""
        try:
            body = json.loads(_text(script, "answer", raw))
        except json.JSONDecodeError:
            raise ReplyError(f"{script}: the answer is not JSON: {_shown(raw)}") from None
        if (
            isinstance(body, dict)
            and body.get("ok") is True
            and body.keys()
            == {
                "ok",
                "order",
                "expires_at",
            }
        ):
            return cls(
                order=_text(script, "order", body["order"]),
                expires_at=_int(script, "expires_at", body["expires_at"]),
            )
        if isinstance(body, dict) and body.get("ok") is False and body.keys() == {"ok", "reason"}:
            return cls(reason=_choice(script, "reason", body["reason"], BuyRefusal))
        raise ReplyError(f"{script}: not a buy answer: {_shown(body)}")

    def to_json(self) -> dict[str, object]:
        if self.reason is not None:
            return {"ok": False, "reason": self.reason.value}
        return {"ok": True, "order": self.order, "expires_at": self.expires_at}


class ReserveKind(StrEnum):
    new = "new"  # reserved now
    repeat = "repeat"  # the key's recorded answer
    refused = "refused"


@dataclass(frozen=True)
class ReservedOrder:
    """What the staff's orders feed shows of an order reserved now."""

    product_id: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class ReserveReply:
    """``sales_reserve``: whether units were reserved now, the answer, the stock left (-1
    unless reserved now), whether this buy took the last unit and, when reserved now, the
    order's product, amount and currency (3 more items)."""

    script: ClassVar[str] = "sales_reserve"
    kind: ReserveKind
    answer: BuyResult
    left: int
    took_last: bool
    order: ReservedOrder | None = None

    @classmethod
    def parse(cls, raw: object) -> Self:
        order = None
        if isinstance(raw, list) and len(raw) == 7:
            product, amount, currency = raw[4:]
            raw = raw[:4]
            order = ReservedOrder(
                _text(cls.script, "product", product),
                _int(cls.script, "amount", amount),
                _text(cls.script, "currency", currency),
            )
        kind, answer, left, took_last = _items(cls.script, raw, 4)
        return cls(
            _choice(cls.script, "kind", kind, ReserveKind),
            BuyResult.from_json(answer, cls.script),
            _int(cls.script, "stock left", left),
            _int(cls.script, "took_last", took_last) == 1,
            order,
        )


class SettleOutcome(StrEnum):
    done = "done"
    repeat = "repeat"  # already in the wanted state (or, expiring, in any final state)
    not_due = "not_due"  # expiring an order whose reservation still runs
    order_not_found = "order_not_found"
    not_your_order = "not_your_order"
    reservation_expired = "reservation_expired"
    order_paid = "order_paid"
    order_cancelled = "order_cancelled"
    order_expired = "order_expired"


@dataclass(frozen=True)
class SettleReply:
    """``orders_settle``: the outcome, the order's status and buyer, and the sale's stock
    after units returned (-1 when none did)."""

    script: ClassVar[str] = "orders_settle"
    outcome: SettleOutcome
    status: str
    user: str
    left: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, status, user, left = _items(cls.script, raw, 4)
        return cls(
            _choice(cls.script, "outcome", outcome, SettleOutcome),
            _text(cls.script, "status", status),
            _text(cls.script, "user", user),
            _int(cls.script, "stock left", left),
        )


class SaleChange(StrEnum):
    started = "started"
    ended = "ended"
    none = ""
    missing = "missing"  # no such sale


@dataclass(frozen=True)
class SaleAdvanceReply:
    """``sales_advance``: the change made now, and when the next one is due (ms, 0: none)."""

    script: ClassVar[str] = "sales_advance"
    change: SaleChange
    next_at: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        change, next_at = _items(cls.script, raw, 2)
        return cls(
            _choice(cls.script, "change", change, SaleChange),
            _int(cls.script, "next_at", next_at),
        )


# Hooks


class TakeKind(StrEnum):
    new = "new"  # entries read now for this consumer
    held = "held"  # entries this consumer already held
    busy = "busy"  # another consumer holds entries


@dataclass(frozen=True)
class HooksTakeReply:
    """``hooks_take``: what it handed out (entries deleted from the stream are left out)."""

    script: ClassVar[str] = "hooks_take"
    kind: TakeKind
    entries: list[StreamEntry]

    @classmethod
    def parse(cls, raw: object) -> Self:
        kind, items = _items(cls.script, raw, 2)
        if not isinstance(items, list):
            raise ReplyError(f"{cls.script}: entries must be a list, got {_shown(items)}")
        entries: list[StreamEntry] = []
        for item in items:
            if not item:  # deleted from the stream
                continue
            entry = _items(cls.script, item, 2)
            if entry[1] is None:  # deleted from the stream
                continue
            values = [_text(cls.script, "field", v) for v in _items_even(cls.script, entry[1])]
            fields = dict(zip(values[::2], values[1::2], strict=True))
            entries.append((_text(cls.script, "entry id", entry[0]), fields))
        return cls(_choice(cls.script, "kind", kind, TakeKind), entries)


def _items_even(script: str, raw: object) -> list[object]:
    if not isinstance(raw, list) or len(raw) % 2:
        raise ReplyError(f"{script}: fields must be a list of pairs, got {_shown(raw)}")
    return raw


@dataclass(frozen=True)
class HooksTouchReply:
    """``hooks_touch``: the ids the consumer still holds."""

    script: ClassVar[str] = "hooks_touch"
    held: frozenset[str]

    @classmethod
    def parse(cls, raw: object) -> Self:
        if not isinstance(raw, list):
            raise ReplyError(f"{cls.script}: expected a list of ids, got {_shown(raw)}")
        return cls(frozenset(_text(cls.script, "entry id", v) for v in raw))
