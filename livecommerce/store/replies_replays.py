"""Typed answers of the replays' scripts (``replays_*.lua``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self

from livecommerce.store.reply_fields import ReplyError, choice, integer, items, shown, text


class ReplayBuyKind(StrEnum):
    new = "new"
    repeat = "repeat"
    refused = "refused"


class ReplayBuyRefusal(StrEnum):
    banned = "banned"
    product_not_found = "product_not_found"
    limit_reached = "limit_reached"
    sold_out = "sold_out"
    not_enough_stock = "not_enough_stock"


@dataclass(frozen=True)
class ReplayBuyResult:
    """``{ok: true, order, expires_at}`` or ``{ok: false, reason}`` (also what a retry with
    the same key gets back)."""

    order: str | None = None
    expires_at: int | None = None
    reason: ReplayBuyRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict[str, Any]:
        if self.reason is not None:
            return {"ok": False, "reason": self.reason.value}
        return {"ok": True, "order": self.order, "expires_at": self.expires_at}


def _result(script: str, raw: object) -> ReplayBuyResult:
    try:
        body = json.loads(text(script, "answer", raw))
    except json.JSONDecodeError:
        raise ReplyError(f"{script}: the answer is not JSON: {shown(raw)}") from None
    if isinstance(body, dict) and body.get("ok") is True:
        order, expires_at = body.get("order"), body.get("expires_at")
        if isinstance(order, str) and isinstance(expires_at, int):
            return ReplayBuyResult(order=order, expires_at=expires_at)
    if isinstance(body, dict) and body.get("ok") is False:
        reason = choice(script, "reason", body.get("reason", ""), ReplayBuyRefusal)
        return ReplayBuyResult(reason=reason)
    raise ReplyError(f"{script}: unknown answer {shown(raw)}")


@dataclass(frozen=True)
class ReplayBuyReply:
    """``replays_buy``: whether units were reserved now, the answer and the stock left
    (-1 unless reserved now)."""

    script: ClassVar[str] = "replays_buy"
    kind: ReplayBuyKind
    answer: ReplayBuyResult
    left: int

    @classmethod
    def parse(cls, raw: object) -> Self:
        kind, answer, left = items(cls.script, raw, 3)
        return cls(
            choice(cls.script, "kind", kind, ReplayBuyKind),
            _result(cls.script, answer),
            integer(cls.script, "stock left", left),
        )
