"""The console's command lines, parsed into typed commands.

Every line starts with a command word; chat goes through ``say``, so a typo
never reaches the viewers. :func:`parse_command` raises ``ValueError`` with a
one-line message for anything it cannot take.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from clients.anchor.format_commands import FORMAT_WORDS, FormatCall, parse_format_command
from clients.anchor.format_commands import HELP as FORMATS_HELP
from clients.moderator.durations import parse_duration

SALE_DEFAULT_LIMIT = 1
SALE_DEFAULT_DURATION_S = 600
SALE_DEFAULT_TTL_S = 300
CURRENCY = re.compile(r"^[A-Z]{3}$")

HELP = f"""\
commands (one per line):
  say TEXT                                   chat in the room as the anchor
  products                                   list the room's products
  product add SKU PRICE_CENTS TITLE… [--currency EUR]
                                             add a product (price in cents)
  pin PRODUCT_ID                             show a product to every viewer
  sale start PRODUCT_ID PRICE_CENTS QTY [--limit N] [--for 10m] [--ttl 5m]
                                             start a flash sale now (per-buyer limit,
                                             duration, time a reservation stays payable)
  sale stop SALE_ID                          end a flash sale
  sales                                      the sales seen in this session, fresh from the server
{FORMATS_HELP}
  stats                                      the room's counters now
  help                                       this list
  quit                                       stop publishing and exit"""


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class ListProducts:
    pass


@dataclass(frozen=True)
class AddProduct:
    sku: str
    price_cents: int
    title: str
    currency: str | None  # None: the console's --currency


@dataclass(frozen=True)
class Pin:
    product_id: str


@dataclass(frozen=True)
class StartSale:
    product_id: str
    price_cents: int
    quantity: int
    per_user_limit: int
    duration_s: int
    reservation_ttl_s: int


@dataclass(frozen=True)
class StopSale:
    sale_id: str


@dataclass(frozen=True)
class ListSales:
    pass


@dataclass(frozen=True)
class ShowStats:
    pass


Command = (
    Help
    | Quit
    | Say
    | ListProducts
    | AddProduct
    | Pin
    | StartSale
    | StopSale
    | ListSales
    | ShowStats
    | FormatCall
)
NO_ARGUMENTS: dict[str, Command] = {
    "help": Help(),
    "quit": Quit(),
    "products": ListProducts(),
    "sales": ListSales(),
    "stats": ShowStats(),
}


def parse_command(line: str) -> Command | None:
    """The command on ``line``; None for a blank line; ``ValueError`` when it is wrong."""
    stripped = line.strip()
    if not stripped:
        return None
    word, _, rest = stripped.partition(" ")
    rest = rest.strip()
    if word == "say":
        if not rest:
            raise ValueError("say needs the text to send: say TEXT")
        return Say(rest)
    if word in NO_ARGUMENTS:
        if rest:
            raise ValueError(f"{word} takes no arguments")
        return NO_ARGUMENTS[word]
    try:
        words = shlex.split(rest)
    except ValueError as error:
        raise ValueError(f"cannot read the arguments: {error}") from None
    if word == "pin":
        if len(words) != 1:
            raise ValueError("usage: pin PRODUCT_ID")
        return Pin(words[0])
    if word == "product":
        return _product(words)
    if word == "sale":
        return _sale(words)
    if word in FORMAT_WORDS:
        return parse_format_command(word, words)
    raise ValueError(f"unknown command {word!r}; type help for the list")


def _product(words: list[str]) -> AddProduct:
    usage = "usage: product add SKU PRICE_CENTS TITLE… [--currency EUR]"
    if not words or words[0] != "add":
        raise ValueError(usage)
    positional, options = _split_options(words[1:], {"--currency"}, usage)
    if len(positional) < 3:
        raise ValueError(usage)
    currency = options.get("--currency")
    if currency is not None and not CURRENCY.match(currency):
        raise ValueError(f"--currency must be an ISO 4217 code like EUR, not {currency!r}")
    sku, price, *title = positional
    return AddProduct(sku, _count(price, "PRICE_CENTS", minimum=0), " ".join(title), currency)


def _sale(words: list[str]) -> StartSale | StopSale:
    start_usage = "usage: sale start PRODUCT_ID PRICE_CENTS QTY [--limit N] [--for 10m] [--ttl 5m]"
    if words[:1] == ["stop"]:
        if len(words) != 2:
            raise ValueError("usage: sale stop SALE_ID")
        return StopSale(words[1])
    if words[:1] != ["start"]:
        raise ValueError("usage: sale start … or sale stop SALE_ID")
    positional, options = _split_options(words[1:], {"--limit", "--for", "--ttl"}, start_usage)
    if len(positional) != 3:
        raise ValueError(start_usage)
    product_id, price, quantity = positional
    return StartSale(
        product_id,
        _count(price, "PRICE_CENTS", minimum=0),
        _count(quantity, "QTY", minimum=1),
        _count(options["--limit"], "--limit", minimum=1)
        if "--limit" in options
        else SALE_DEFAULT_LIMIT,
        _duration(options.get("--for"), "--for", SALE_DEFAULT_DURATION_S),
        _duration(options.get("--ttl"), "--ttl", SALE_DEFAULT_TTL_S),
    )


def _split_options(
    words: list[str], known: set[str], usage: str
) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    options: dict[str, str] = {}
    items = iter(words)
    for word in items:
        if not word.startswith("--"):
            positional.append(word)
            continue
        if word not in known:
            raise ValueError(f"unknown option {word}; {usage}")
        value = next(items, None)
        if value is None:
            raise ValueError(f"{word} needs a value")
        options[word] = value
    return positional, options


def _count(text: str, name: str, minimum: int) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        kind = "a whole number" if minimum == 0 else f"a whole number ≥ {minimum}"
        raise ValueError(f"{name} must be {kind}, not {text!r}")
    return int(text)


def _duration(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
