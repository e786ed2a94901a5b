"""Every Lua script's answer is parsed into a typed reply, and an answer of another shape
is a ReplyError naming the script (bad answers kept in tests/data/replies/)."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

from livecommerce.commerce.models import Order, OrderStatus
from livecommerce.store import replies
from livecommerce.store.replies import (
    BuyRefusal,
    BuyResult,
    ChatPostReply,
    ChatRefusal,
    GoLive,
    HooksTakeReply,
    HooksTouchReply,
    ModerationActReply,
    ReplyError,
    ReserveKind,
    ReserveReply,
    SaleAdvanceReply,
    SaleChange,
    SettleOutcome,
    SettleReply,
    TakeKind,
)

ROOT = Path(__file__).parents[2]
SCRIPTS = ROOT / "livecommerce" / "store" / "scripts"
BAD_REPLIES = json.loads((ROOT / "tests/data/replies/bad_replies.json").read_text("utf-8"))

REPLY_MODULES = [replies] + [
    importlib.import_module(f"livecommerce.store.{path.stem}")
    for path in sorted((ROOT / "livecommerce" / "store").glob("replies_*.py"))
]
REPLY_TYPES = {
    cls.script: cls
    for module in REPLY_MODULES
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if isinstance(getattr(cls, "script", None), str) and cls.__module__ == module.__name__
}


def as_sent(value: Any) -> Any:
    """A JSON test value as the store sends it: text as bytes, lists item by item."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return [as_sent(item) for item in value]
    return value


def test_every_script_has_a_reply_type() -> None:
    assert sorted(REPLY_TYPES) == sorted(path.stem for path in SCRIPTS.glob("*.lua"))


def test_services_call_scripts_through_reply_types_only() -> None:
    raw_calls = re.compile(r"\.(run|run_many|script)\(\s*\"")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "livecommerce").rglob("*.py")
        if "store" not in path.relative_to(ROOT / "livecommerce").parts[:1]
        and raw_calls.search(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []


@pytest.mark.parametrize(
    "case",
    BAD_REPLIES["cases"],
    ids=[f"{c['script']}-{n}" for n, c in enumerate(BAD_REPLIES["cases"])],
)
def test_an_answer_of_another_shape_names_the_script(case: dict[str, Any]) -> None:
    with pytest.raises(ReplyError) as error:
        REPLY_TYPES[case["script"]].parse(as_sent(case["reply"]))

    assert case["message"] in str(error.value)
    assert "\n" not in str(error.value)


def test_a_reservation_parses_into_its_parts() -> None:
    raw = [b"new", b'{"expires_at":1764092025123,"ok":true,"order":"r1-ab"}', 4, 0]

    reply = ReserveReply.parse(raw)

    assert reply == ReserveReply(
        ReserveKind.new, BuyResult(order="r1-ab", expires_at=1764092025123), 4, took_last=False
    )
    assert reply.answer.ok
    assert reply.answer.to_json() == {"ok": True, "order": "r1-ab", "expires_at": 1764092025123}
    assert ReserveReply.parse([b"new", raw[1], 0, 1]).took_last


def test_a_refusal_keeps_its_reason() -> None:
    reply = ReserveReply.parse([b"refused", b'{"ok":false,"reason":"limit_reached"}', -1, 0])

    assert reply.kind is ReserveKind.refused
    assert reply.answer.reason is BuyRefusal.limit_reached
    assert not reply.answer.ok
    assert reply.answer.to_json() == {"ok": False, "reason": "limit_reached"}


def test_chat_answers() -> None:
    assert ChatPostReply.parse([b"ok", b"1764092025123-0", b"1764092025123"]) == ChatPostReply(
        "1764092025123-0", None, 1764092025123
    )
    assert ChatPostReply.parse([b"err", b"slow_mode", b"1764092026000"]) == ChatPostReply(
        "", ChatRefusal.slow_mode, 1764092026000
    )


def test_settle_moderation_advance_and_rooms_answers() -> None:
    assert SettleReply.parse([b"done", b"cancelled", b"alice", 7]) == SettleReply(
        SettleOutcome.done, "cancelled", "alice", 7
    )
    assert SettleReply.parse([b"order_not_found", b"", b"", -1]).outcome is (
        SettleOutcome.order_not_found
    )
    assert ModerationActReply.parse([b"ok", b"-1", b"1-0"]) == ModerationActReply(-1, "1-0")
    assert ModerationActReply.parse([b"err", b"message_not_found"]).refusal == "message_not_found"
    assert SaleAdvanceReply.parse([b"", 0]).change is SaleChange.none
    assert SaleAdvanceReply.parse([b"started", 1764092025123]).next_at == 1764092025123
    assert replies.RoomsGoLiveReply.parse(-2).outcome is GoLive.room_ended
    assert replies.RoomsCreateReply.parse(0) == replies.RoomsCreateReply(created=False)


def test_hooks_answers_skip_deleted_entries() -> None:
    raw = [b"held", [[b"1-0", [b"type", b"order.created"]], [b"2-0", None], None]]

    assert HooksTakeReply.parse(raw) == HooksTakeReply(
        TakeKind.held, [("1-0", {"type": "order.created"})]
    )
    assert HooksTouchReply.parse([b"1-0", b"2-0"]).held == {"1-0", "2-0"}


ORDER_HASH = {
    b"id": b"r1-ab",
    b"room": b"r1",
    b"sale": b"s_1",
    b"product_id": b"p_1",
    b"user": b"alice",
    b"qty": b"2",
    b"unit_price_cents": b"2500",
    b"amount_cents": b"5000",
    b"currency": b"EUR",
    b"status": b"paid",
    b"created_at": b"1764092025123",
    b"expires_at": b"1764092625123",
    b"paid_at": b"1764092030000",
}


def test_an_order_is_typed_and_answers_the_same_json() -> None:
    order = Order.from_hash(ORDER_HASH)

    assert order.status is OrderStatus.paid
    assert (order.room, order.sale, order.qty, order.paid_at) == ("r1", "s_1", 2, 1764092030000)
    assert order.to_json() == {
        "id": "r1-ab",
        "room": "r1",
        "sale": "s_1",
        "product_id": "p_1",
        "user": "alice",
        "qty": 2,
        "unit_price_cents": 2500,
        "amount_cents": 5000,
        "currency": "EUR",
        "status": "paid",
        "created_at": 1764092025123,
        "expires_at": 1764092625123,
        "paid_at": 1764092030000,
        "cancelled_at": None,
        "expired_at": None,
        "source": "sale",
        "ref": None,
        "voucher": None,
        "voucher_claim": None,
        "discount_cents": 0,
    }
    assert type(order.to_json()["status"]) is str


def test_a_reservation_made_now_carries_what_the_staff_feed_shows() -> None:
    answer = b'{"expires_at":1764092025123,"ok":true,"order":"r1-ab"}'
    reply = ReserveReply.parse([b"new", answer, 4, 0, b"p_1", 1980, b"EUR"])

    assert reply.order == replies.ReservedOrder("p_1", 1980, "EUR")
    assert ReserveReply.parse([b"new", answer, 4, 0]).order is None
    with pytest.raises(ReplyError, match="sales_reserve: amount must be an integer"):
        ReserveReply.parse([b"new", answer, 4, 0, b"p_1", b"lots", b"EUR"])
