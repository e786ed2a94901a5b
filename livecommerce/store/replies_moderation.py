"""Reply types of the moderation scripts (review queue, reports, automod settings, shield
mode), the review item they carry, and :class:`ChatGate`: automod's part of the chat
script's arguments, which the chat service (channel/) passes on without reading."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from livecommerce.store.reply_fields import ReplyError, shown
from livecommerce.store.reply_fields import integer as _int
from livecommerce.store.reply_fields import items as _items
from livecommerce.store.reply_fields import text as _text


@dataclass(frozen=True)
class ReviewItem:
    """A message waiting for a moderator: held by automod (``source`` ``automod``, id
    ``h<ms>-<seq>``) or reported by viewers (``reports``, id = the chat message's id;
    ``visible`` while it is still shown in the chat)."""

    id: str
    user: str
    role: str
    text: str
    rule: str
    source: str
    ts: int
    visible: bool
    reports: int
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "text": self.text,
            "rule": self.rule,
            "source": self.source,
            "ts": self.ts,
            "visible": self.visible,
            "reports": self.reports,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_json(cls, script: str, raw: object) -> Self:
        try:
            value = json.loads(_text(script, "item", raw))
            reasons = value.get("reasons") or []
            return cls(
                id=str(value["id"]),
                user=str(value["user"]),
                role=str(value.get("role") or "viewer"),
                text=str(value["text"]),
                rule=str(value["rule"]),
                source=str(value["source"]),
                ts=int(value["ts"]),
                visible=bool(value["visible"]),
                reports=int(value.get("reports") or 0),
                # cjson writes an empty Lua table as {}: no reasons.
                reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ReplyError(f"{script}: bad review item {shown(raw)}: {exc}") from None


@dataclass(frozen=True)
class ChatGate:
    """What automod adds to a ``chat_post`` call: the extra keys (see the script's
    header) and arguments. ``hold_rule`` holds the message whatever else; the other
    fields switch on the script's own rules."""

    keys: tuple[str, ...]
    hold_rule: str = ""
    fingerprint: str = ""
    repeat_limit: int = 0
    copy_paste_limit: int = 0
    spam_slot_ms: int = 1
    hold_first_time: bool = False
    buyers_only: bool = False
    review_ttl_ms: int = 1
    review_queue_size: int = 1
    audit_log_size: int = 1

    def args(self) -> list[str | int]:
        return [
            self.hold_rule,
            self.fingerprint,
            self.repeat_limit,
            self.copy_paste_limit,
            self.spam_slot_ms,
            "1" if self.hold_first_time else "0",
            "1" if self.buyers_only else "0",
            self.review_ttl_ms,
            self.review_queue_size,
            self.audit_log_size,
        ]


@dataclass(frozen=True)
class ReviewDecideReply:
    """``review_decide``: the item decided, the chat id it was published under ('' when
    nothing was published), the author's timeout end (ms, 0 = none) and the audit entry;
    or ``gone`` when another decision (or expiry) took the item first."""

    script: ClassVar[str] = "review_decide"
    item: ReviewItem | None
    chat_id: str = ""
    until_ms: int = 0
    audit_id: str = ""

    @property
    def gone(self) -> bool:
        return self.item is None

    @classmethod
    def parse(cls, raw: object) -> Self:
        items = _items(cls.script, raw, 2, 5)
        outcome = _text(cls.script, "outcome", items[0])
        if outcome == "err" and len(items) == 2 and _text(cls.script, "code", items[1]) == "gone":
            return cls(None)
        if outcome != "ok" or len(items) != 5:
            raise ReplyError(f"{cls.script}: unknown answer {shown(raw)}")
        return cls(
            ReviewItem.from_json(cls.script, items[1]),
            _text(cls.script, "chat id", items[2]),
            _int(cls.script, "until", items[3]),
            _text(cls.script, "audit id", items[4]),
        )


@dataclass(frozen=True)
class ReviewReportReply:
    """``review_report``: the message's distinct reporters, whether this report held it,
    and its review item; ``duplicate`` when this reporter had reported it already; or a
    refusal (``message_not_found``, ``own_message``, ``rate_limited`` until ``at_ms``)."""

    script: ClassVar[str] = "review_report"
    reporters: int = 0
    held: bool = False
    item: ReviewItem | None = None
    duplicate: bool = False
    refusal: str | None = None
    at_ms: int = 0

    @classmethod
    def parse(cls, raw: object) -> Self:
        items = _items(cls.script, raw, 2, 3, 4)
        outcome = _text(cls.script, "outcome", items[0])
        if outcome == "ok" and len(items) == 4:
            held = _text(cls.script, "held", items[2])
            if held not in ("0", "1"):
                raise ReplyError(f"{cls.script}: held must be 0 or 1, got {shown(items[2])}")
            return cls(
                _int(cls.script, "reporters", items[1]),
                held == "1",
                ReviewItem.from_json(cls.script, items[3]),
            )
        if outcome == "dup" and len(items) == 2:
            return cls(_int(cls.script, "reporters", items[1]), duplicate=True)
        if outcome == "err" and len(items) == 3:
            refusal = _text(cls.script, "refusal", items[1])
            if refusal not in ("message_not_found", "own_message", "rate_limited"):
                raise ReplyError(f"{cls.script}: unknown refusal {refusal!r}")
            return cls(refusal=refusal, at_ms=_int(cls.script, "until", items[2]))
        raise ReplyError(f"{cls.script}: unknown answer {shown(raw)}")


@dataclass(frozen=True)
class ModerationAutomodReply:
    """``moderation_automod``: the audit entry of the change."""

    script: ClassVar[str] = "moderation_automod"
    audit_id: str

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, audit_id = _items(cls.script, raw, 2)
        if _text(cls.script, "outcome", outcome) != "ok":
            raise ReplyError(f"{cls.script}: unknown answer {shown(raw)}")
        return cls(_text(cls.script, "audit id", audit_id))


@dataclass(frozen=True)
class ModerationShieldReply:
    """``moderation_shield``: whether anything changed, slow mode after it (s), and the
    audit entry ('' when unchanged)."""

    script: ClassVar[str] = "moderation_shield"
    changed: bool
    slow_mode_s: int
    audit_id: str

    @classmethod
    def parse(cls, raw: object) -> Self:
        outcome, changed, slow, audit_id = _items(cls.script, raw, 4)
        flag = _text(cls.script, "changed", changed)
        if _text(cls.script, "outcome", outcome) != "ok" or flag not in ("0", "1"):
            raise ReplyError(f"{cls.script}: unknown answer {shown(raw)}")
        return cls(
            flag == "1", _int(cls.script, "slow mode", slow), _text(cls.script, "audit", audit_id)
        )
