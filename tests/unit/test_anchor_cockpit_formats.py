"""The console's board of vouchers, auctions and giveaways, and its orders feed lines."""

from __future__ import annotations

from typing import Any

from clients.anchor.cockpit_formats import BOARD_KEEP, FormatsBoard
from clients.anchor.cockpit_model import CockpitModel
from clients.anchor.room_view import order_line

NOW = 1_700_000_000_000
VOUCHER = {
    "id": "v_1",
    "title": "3 EUR off",
    "discount_cents": 300,
    "percent_off": None,
    "quantity": 5,
    "left": 5,
    "status": "live",
    "expires_at": None,
}
AUCTION = {
    "id": "a_1",
    "product_id": "p_1",
    "title": "Oolong",
    "currency": "EUR",
    "start_price_cents": 1000,
    "status": "open",
    "ends_at": NOW + 65_000,
    "leader": None,
    "amount_cents": None,
    "bids": 0,
}
GIVEAWAY = {
    "id": "g_1",
    "title": "Tea set",
    "winners_wanted": 2,
    "status": "open",
    "ends_at": NOW + 30_000,
}


def board() -> FormatsBoard:
    value = FormatsBoard()
    value.welcome(
        {
            "vouchers": [VOUCHER],
            "pinned_voucher": VOUCHER,
            "auctions": [AUCTION],
            "giveaways": [GIVEAWAY],
        }
    )
    return value


def texts(value: FormatsBoard) -> list[str]:
    return [row.text for row in value.rows({"p_1": "Oolong"}, NOW)]


def test_the_welcome_puts_every_live_format_on_the_board() -> None:
    assert texts(board()) == [
        "giveaway g_1 'Tea set' · open · 2 to win · 0:30 left",
        "auction a_1 Oolong · no bids yet, starts at EUR 10.00 (0 bids) · 1:05 left",
        "voucher v_1 '3 EUR off' 3.00 off · live · 5/5 left · PINNED",
    ]


def test_broadcasts_move_stock_leader_and_end_each_format() -> None:
    value = board()
    frames: list[dict[str, Any]] = [
        {"type": "voucher_stock", "voucher": "v_1", "left": 3},
        {
            "type": "auction_bid",
            "auction": "a_1",
            "leader": "bob",
            "amount_cents": 1200,
            "ends_at": NOW + 90_000,
            "bids": 2,
            "min_next_cents": 1300,
        },
        {
            "type": "giveaway_ended",
            "giveaway": "g_1",
            "winners": ["mia", "kenji"],
            "seed": "ab" * 32,
            "commitment": "cd" * 32,
            "entrants_count": 40,
            "entrants_truncated": True,
        },
    ]
    assert all(value.apply(frame) for frame in frames)
    assert not value.apply({"type": "chat", "text": "hi"})
    shown = texts(value)
    assert "auction a_1 Oolong · bob leads at EUR 12.00 (2 bids) · 1:30 left" in shown
    assert "voucher v_1 '3 EUR off' 3.00 off · live · 3/5 left · PINNED" in shown
    assert (
        shown[-1] == f"giveaway g_1 'Tea set' · won by mia, kenji of 40 entrants · seed {'ab' * 32}"
    )
    value.apply(
        {
            "type": "auction_ended",
            "auction": "a_1",
            "winner": None,
            "amount_cents": 1200,
            "order": None,
            "reason": "reserve_not_met",
        }
    )
    assert "auction a_1 Oolong · ended unsold (reserve_not_met)" in texts(value)


def test_the_board_is_bounded_and_drops_ended_formats_first() -> None:
    value = FormatsBoard()
    value.put("voucher", {**VOUCHER, "id": "v_live"})
    for n in range(BOARD_KEEP + 10):
        value.put("giveaway", {**GIVEAWAY, "id": f"g_{n}", "status": "ended"})
    assert len(value.items) == BOARD_KEEP
    assert "voucher:v_live" in value.items


def test_room_order_frames_say_who_and_replace_the_stock_lines() -> None:
    frame = {
        "type": "room_order",
        "id": "r-1",
        "status": "reserved",
        "user": "bob",
        "product": "p_1",
        "qty": 2,
        "amount_cents": 1980,
        "currency": "EUR",
        "source": "sale",
    }
    assert order_line(frame, "Oolong") == "bob: 2 × Oolong reserved · EUR 19.80"
    assert order_line({**frame, "source": "auction"}, "Oolong").endswith("(auction)")
    model = CockpitModel()
    model.set_products([{"id": "p_1", "title": "Oolong", "price_cents": 1800, "currency": "EUR"}])
    model.apply(frame)
    model.apply_stats({"orders": 1, "paid_orders": 0, "gmv_cents": {}})
    model.apply_stats({"orders": 2, "paid_orders": 1, "gmv_cents": {"EUR": 1980}})
    assert [line.split(" ", 1)[1] for line in model.orders_feed] == [
        "bob: 2 × Oolong reserved · EUR 19.80"
    ]
