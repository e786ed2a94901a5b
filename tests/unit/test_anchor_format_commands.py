"""The anchor console's voucher, auction and giveaway commands: typed calls, or one-line
errors for what they cannot take."""

from __future__ import annotations

import re

import pytest

from clients.anchor.commands import parse_command
from clients.anchor.format_commands import FormatCall, describe


def test_each_command_becomes_one_call() -> None:
    call = parse_command("voucher drop 3 EUR off --percent 10 --qty 5 --min 1000 --watch 2m")
    assert call == FormatCall(
        "POST",
        "/vouchers",
        "voucher",
        {
            "title": "3 EUR off",
            "quantity": 5,
            "per_user_limit": 1,
            "percent_off": 10,
            "min_spend_cents": 1000,
            "watch_s_required": 120,
        },
    )
    assert parse_command("voucher end v/1") == FormatCall("POST", "/vouchers/v%2F1/end", "voucher")
    assert parse_command("auction start p_1 100 --snipe 10s") == FormatCall(
        "POST",
        "/auctions",
        "auction",
        {"product_id": "p_1", "start_price_cents": 100, "duration_s": 30, "anti_snipe_s": 10},
    )
    giveaway = parse_command("giveaway start 2 Tea for two --buyers --keyword oolong")
    assert isinstance(giveaway, FormatCall)
    assert giveaway.body["eligibility"] == {"buyers_only": True, "keyword": "oolong"}
    assert parse_command("giveaway end r-g1") == FormatCall(
        "POST", "/api/giveaways/r-g1/end", "giveaway"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("voucher", "usage: voucher drop"),
        ("voucher drop Tea --qty 5", "usage: voucher drop"),
        ("voucher drop Tea --off 1 --percent 2 --qty 5", "usage: voucher drop"),
        ("voucher drop Tea --off -1 --qty 5", "--off must be a whole number"),
        ("voucher drop Tea --off 100 --qty 5 --watch soon", "--watch:"),
        ("voucher pin", "usage: voucher drop"),
        ("auction start p_1", "usage: auction start"),
        ("auction start p_1 0", "START_CENTS must be a whole number ≥ 1"),
        ("auction start p_1 100 --snipe 5s --sudden-death", "exclude each other"),
        ("auction start p_1 100 --bogus 1", "unknown option --bogus"),
        ("auction start p_1 100 --for", "--for needs a value"),
        ("giveaway start Tea", "usage: giveaway start"),
        ("giveaway start x Tea", "WINNERS must be a whole number"),
        ("giveaway stop g", "usage: giveaway start"),
    ],
)
def test_bad_lines_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_command(line)


def test_the_line_console_says_how_long_an_open_auction_has_left_not_its_timestamp() -> None:
    call = parse_command("auction start p_1 100")
    assert isinstance(call, FormatCall)
    open_line = describe(call, {"id": "a_1", "status": "open", "ends_at": 2**62})
    assert "ends in " in open_line
    assert str(2**62) not in open_line
    ended = describe(call, {"id": "a_1", "status": "ended", "ends_at": 1, "winner": "bob"})
    assert ended == "auction a_1: ended, winner bob"
