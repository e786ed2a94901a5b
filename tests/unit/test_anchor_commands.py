"""Command lines the anchor console accepts, and the exact errors for the rest."""

from __future__ import annotations

import re

import pytest

from clients.anchor.commands import (
    AddProduct,
    Command,
    Help,
    ListProducts,
    ListSales,
    Pin,
    Quit,
    Say,
    ShowStats,
    StartSale,
    StopSale,
    parse_command,
)


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("help", Help()),
        ("  quit  ", Quit()),
        ("products", ListProducts()),
        ("sales", ListSales()),
        ("stats", ShowStats()),
        ("say hello   everyone ", Say("hello   everyone")),
        ("say /pin is not a command here", Say("/pin is not a command here")),
        ("pin p_1", Pin("p_1")),
        ("product add TEA-1 1800 Oolong 100 g", AddProduct("TEA-1", 1800, "Oolong 100 g", None)),
        (
            'product add "TEA 2" 0 "Green tea" --currency USD',
            AddProduct("TEA 2", 0, "Green tea", "USD"),
        ),
        ("sale start p_1 990 50", StartSale("p_1", 990, 50, 1, 600, 300)),
        (
            "sale start p_1 990 50 --limit 3 --for 2m --ttl 90",
            StartSale("p_1", 990, 50, 3, 120, 90),
        ),
        ("sale start --for 1h p_1 --ttl 1m 990 5", StartSale("p_1", 990, 5, 1, 3600, 60)),
        ("sale stop s_9", StopSale("s_9")),
    ],
)
def test_command_lines_parse_to_typed_commands(line: str, command: Command) -> None:
    assert parse_command(line) == command


@pytest.mark.parametrize("line", ["", "   ", "\n"])
def test_blank_lines_are_no_command(line: str) -> None:
    assert parse_command(line) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("hello everyone", "unknown command 'hello'; type help for the list"),
        ("/say hi", "unknown command '/say'; type help for the list"),
        ("say", "say needs the text to send: say TEXT"),
        ("quit now", "quit takes no arguments"),
        ("pin", "usage: pin PRODUCT_ID"),
        ("pin a b", "usage: pin PRODUCT_ID"),
        ("product", "usage: product add SKU PRICE_CENTS TITLE… [--currency EUR]"),
        ("product remove p_1", "usage: product add SKU PRICE_CENTS TITLE… [--currency EUR]"),
        ("product add TEA-1 1800", "usage: product add SKU PRICE_CENTS TITLE… [--currency EUR]"),
        ("product add TEA-1 -5 Tea", "PRICE_CENTS must be a whole number, not '-5'"),
        ("product add TEA-1 ١٢ Tea", "PRICE_CENTS must be a whole number, not '١٢'"),
        (
            "product add TEA-1 5 Tea --currency eur",
            "--currency must be an ISO 4217 code like EUR, not 'eur'",
        ),
        ("product add TEA-1 5 Tea --currency", "--currency needs a value"),
        ('product add "TEA 5 Tea', "cannot read the arguments: No closing quotation"),
        ("sale", "usage: sale start … or sale stop SALE_ID"),
        ("sale pause s_1", "usage: sale start … or sale stop SALE_ID"),
        ("sale stop", "usage: sale stop SALE_ID"),
        (
            "sale start p_1 990",
            "usage: sale start PRODUCT_ID PRICE_CENTS QTY [--limit N] [--for 10m] [--ttl 5m]",
        ),
        ("sale start p_1 990 0", "QTY must be a whole number ≥ 1, not '0'"),
        ("sale start p_1 9.90 5", "PRICE_CENTS must be a whole number, not '9.90'"),
        ("sale start p_1 990 5 --limit 0", "--limit must be a whole number ≥ 1, not '0'"),
        ("sale start p_1 990 5 --for 0", "--for: a duration must be longer than 0 seconds"),
        (
            "sale start p_1 990 5 --ttl soon",
            "--ttl: 'soon' is not a duration like 90, 30s, 10m, 2h or 1d",
        ),
        (
            "sale start p_1 990 5 --every 2",
            "unknown option --every; usage: sale start PRODUCT_ID PRICE_CENTS QTY"
            " [--limit N] [--for 10m] [--ttl 5m]",
        ),
    ],
)
def test_bad_command_lines_are_refused_with_one_exact_line(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        parse_command(line)
    assert str(refused.value) == message
    assert "\n" not in str(refused.value)
