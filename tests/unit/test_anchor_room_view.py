"""The anchor console's view of the room, driven by channel frames and stats answers."""

from __future__ import annotations

import io
from typing import Any

from clients.anchor.output import Printer
from clients.anchor.room_view import ConsoleState, money

PRODUCT = {"id": "p_1", "sku": "TEA-1", "title": "Oolong", "price_cents": 1800, "currency": "EUR"}


def sale(**fields: Any) -> dict[str, Any]:
    return {
        "id": "s_1", "room": "r", "product_id": "p_1", "price_cents": 990, "currency": "EUR",
        "quantity": 10, "per_user_limit": 1, "reservation_ttl_s": 300,
        "starts_at": 1_700_000_000_000, "ends_at": 1_700_000_600_000, "status": "open",
        "left": 10, "reserved": 0, "sold": 0, **fields,
    }  # fmt: skip


def welcome(**fields: Any) -> dict[str, Any]:
    return {
        "type": "welcome",
        "room": {"id": "r", "title": "Tea", "status": "live"},
        "messages": [],
        "likes": 0,
        "viewers": 1,
        "pinned_product": None,
        "sales": [],
        **fields,
    }


def chat(message_id: str, user: str = "bob", text: str = "hi", role: str = "viewer") -> Any:
    return {"type": "chat", "id": message_id, "user": user, "role": role, "text": text, "ts": 0}


def test_the_welcome_sets_the_scene() -> None:
    state = ConsoleState()
    lines = state.apply(
        welcome(
            viewers=4,
            likes=12,
            pinned_product=PRODUCT,
            sales=[sale(left=7)],
            messages=[chat("1-0", text="first"), chat("2-0", user="alice", role="anchor")],
        )
    )

    assert lines == [
        ("room", "joined the channel of 'Tea' (live)"),
        ("chat", "bob: first"),
        ("chat", "alice (anchor): hi"),
    ]
    assert state.status_line() == (
        "viewers 4 | likes 12 | orders 0 (0 paid) | GMV 0 | pinned Oolong"
        " | sale s_1 Oolong: 7/10 left"
    )


def test_chat_seen_before_a_reconnect_is_not_shown_twice() -> None:
    state = ConsoleState()
    state.apply(welcome(messages=[chat("100-0"), chat("100-1")]))
    assert state.apply(chat("100-1")) == []
    again = state.apply(welcome(messages=[chat("99-5"), chat("100-1"), chat("101-0", text="new")]))
    assert again == [("room", "joined the channel of 'Tea' (live)"), ("chat", "bob: new")]
    assert state.last_chat_id == "101-0"


def test_viewers_likes_and_stock_change_only_the_status_line() -> None:
    state = ConsoleState()
    state.apply(welcome(sales=[sale()]))
    before = state.status_line()

    assert state.apply({"type": "viewers", "count": 6}) == []
    assert state.apply({"type": "likes", "total": 40}) == []
    assert state.apply({"type": "sale_stock", "sale": "s_1", "left": 4}) == []
    assert state.apply({"type": "sale_stock", "sale": "s_unknown", "left": 1}) == []
    assert state.status_line() != before
    assert state.status_line().startswith("viewers 6 | likes 40 |")
    assert state.status_line().endswith("sale s_1 p_1: 4/10 left")  # title not known yet


def test_a_sale_is_followed_from_start_to_sold_out_to_end() -> None:
    state = ConsoleState()
    state.remember_product(PRODUCT)
    started = state.apply({"type": "sale_started", "sale": sale()})
    assert started[0][0] == "sale"
    assert started[0][1].startswith("started s_1: Oolong at EUR 9.90, 10 in stock, ends ")

    assert state.apply({"type": "sold_out", "sale": "s_1"}) == [("sale", "s_1 Oolong is sold out")]
    assert state.apply({"type": "sold_out", "sale": "s_1"}) == []  # every node says it
    assert state.status_line().endswith("sale s_1 Oolong: sold out")

    ended = sale(status="ended", left=0, reserved=3, sold=7)
    assert state.apply({"type": "sale_ended", "sale": ended}) == [
        ("sale", "ended s_1 Oolong: 10 of 10 taken (7 paid, 3 awaiting payment)")
    ]
    assert "sale" not in state.status_line()


def test_orders_and_payments_are_announced_only_when_they_move() -> None:
    state = ConsoleState()
    stats = {"orders": 3, "paid_orders": 1, "gmv_cents": {"EUR": 990}}
    assert state.apply_stats(stats) == []  # the first answer is the baseline
    assert state.apply_stats(stats) == []
    assert state.apply_stats({**stats, "orders": 5}) == [
        ("order", "2 new orders: orders 5 (1 paid) | GMV EUR 9.90")
    ]
    paid = {"orders": 6, "paid_orders": 3, "gmv_cents": {"EUR": 2970, "USD": 500}}
    assert state.apply_stats(paid) == [
        ("order", "1 new order, 2 paid: orders 6 (3 paid) | GMV EUR 29.70, USD 5.00")
    ]


def test_pins_room_events_and_errors_are_lines() -> None:
    state = ConsoleState()
    assert state.apply({"type": "product_pinned", "product": PRODUCT}) == [
        ("pin", "pinned Oolong (p_1) at EUR 18.00")
    ]
    assert state.apply({"type": "slow_mode", "interval_s": 5}) == [
        ("room", "slow mode: 5 s between a viewer's messages")
    ]
    assert state.apply({"type": "error", "code": "message_too_long", "message": "Too long."}) == [
        ("error", "message_too_long: Too long.")
    ]
    assert state.apply({"type": "pong", "ts": 1}) == []
    assert state.apply({"type": "offline", "room": "r"}) == [("room", "the stream is offline")]


def test_money_is_whole_units_and_two_decimals() -> None:
    assert money(0, "EUR") == "EUR 0.00"
    assert money(1805, "USD") == "USD 18.05"
    assert money(100_000_00, "JPY") == "JPY 100000.00"


class Captured(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_plain_lines_for_pipes_colour_for_terminals_and_no_repeated_status() -> None:
    pipe, terminal = Captured(tty=False), Captured(tty=True)
    for stream in (pipe, terminal):
        printer = Printer.for_stream(stream)
        printer.line("chat", "bob: hi")
        printer.status("viewers 1")
        printer.status("viewers 1")
        printer.status("viewers 2")
    assert pipe.getvalue() == "[chat] bob: hi\n[status] viewers 1\n[status] viewers 2\n"
    assert "\033[32m[chat]\033[0m bob: hi\n" in terminal.getvalue()
    assert terminal.getvalue().count("viewers 1") == 1
