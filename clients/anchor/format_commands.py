"""The console's commands for vouchers, auctions and giveaways: each becomes one REST call
(:class:`FormatCall`) on the room, printed with a one-line summary of the answer.

  voucher drop TITLE… (--off CENTS | --percent N) --qty N [--limit N] [--min CENTS]
               [--watch 5m] [--for 30m]
  voucher pin VOUCHER_ID / voucher end VOUCHER_ID
  auction start PRODUCT_ID START_CENTS [--for 30s] [--reserve CENTS]
               [--snipe 10s | --sudden-death]
  auction end AUCTION_ID
  giveaway start WINNERS TITLE… [--for 2m] [--product ID] [--watch 1m] [--buyers]
               [--keyword WORD]
  giveaway end GIVEAWAY_ID
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from clients.moderator.durations import parse_duration

FORMAT_WORDS = ("voucher", "auction", "giveaway")
FLAGS = {"--sudden-death", "--buyers"}

HELP = """\
  voucher drop TITLE… (--off CENTS | --percent N) --qty N [--limit N] [--min CENTS]
               [--watch 5m] [--for 30m]      drop a voucher now (--watch: time a viewer
                                             must have watched to claim it)
  voucher pin VOUCHER_ID                     show a voucher to every viewer
  voucher end VOUCHER_ID                     no more claims of a voucher
  auction start PRODUCT_ID START_CENTS [--for 30s] [--reserve CENTS]
               [--snipe 10s | --sudden-death]
                                             start an auction now
  auction end AUCTION_ID                     close an auction now (the leader wins)
  giveaway start WINNERS TITLE… [--for 2m] [--product ID] [--watch 1m] [--buyers]
               [--keyword WORD]              start a giveaway (provably fair draw)
  giveaway end GIVEAWAY_ID                   close entries now and draw the winners"""


@dataclass(frozen=True)
class FormatCall:
    """One REST call on the room (``path`` below ``/api/rooms/ROOM``, or absolute when it
    starts with ``/api/``), and what the answer is called in the console."""

    method: str
    path: str
    kind: str
    body: dict[str, Any] = field(default_factory=dict)


def parse_format_command(word: str, words: list[str]) -> FormatCall:
    """``ValueError`` with the usage when the words are not a format command."""
    if word == "voucher":
        return _voucher(words)
    if word == "auction":
        return _auction(words)
    return _giveaway(words)


def describe(call: FormatCall, answer: dict[str, Any]) -> str:
    """The console's line for the answer to ``call``."""
    ident = answer.get("id", "?")
    status = answer.get("status", "?")
    if call.kind == "voucher":
        return f"voucher {ident} {answer.get('title')!r}: {status}, {answer.get('left')} left"
    if call.kind == "auction":
        extra = f", winner {answer['winner']}" if answer.get("winner") else ""
        return f"auction {ident}: {status}{_ends_in(answer.get('ends_at'), status)}{extra}"
    extra = f", winners {', '.join(answer['winners'])}" if answer.get("winners") else ""
    commitment = str(answer.get("commitment", ""))[:16]
    return f"giveaway {ident}: {status}, commitment {commitment}…{extra}"


def _ends_in(ends_at: object, status: object, now_ms: float | None = None) -> str:
    """ ", ends in 29 s" for an open auction (``ends_at`` is the store's ms), else ""."""
    if status != "open" or not isinstance(ends_at, int):
        return ""
    now = time.time() * 1000 if now_ms is None else now_ms
    return f", ends in {max(0, round((ends_at - now) / 1000))} s"


def _id(words: list[str], usage: str) -> str:
    if len(words) != 2:
        raise ValueError(usage)
    return quote(words[1], safe="")


def _voucher(words: list[str]) -> FormatCall:
    usage = (
        "usage: voucher drop TITLE… (--off CENTS | --percent N) --qty N [--limit N] "
        "[--min CENTS] [--watch 5m] [--for 30m], or voucher pin|end VOUCHER_ID"
    )
    if words[:1] in (["pin"], ["end"]):
        return FormatCall("POST", f"/vouchers/{_id(words, usage)}/{words[0]}", "voucher")
    if words[:1] != ["drop"]:
        raise ValueError(usage)
    known = {"--off", "--percent", "--qty", "--limit", "--min", "--watch", "--for"}
    title, options = _options(words[1:], known, usage)
    if not title or "--qty" not in options or ("--off" in options) == ("--percent" in options):
        raise ValueError(usage)
    body: dict[str, Any] = {
        "title": " ".join(title),
        "quantity": _number(options["--qty"], "--qty", 1),
        "per_user_limit": _number(options.get("--limit", "1"), "--limit", 1),
    }
    if "--off" in options:
        body["discount_cents"] = _number(options["--off"], "--off", 1)
    else:
        body["percent_off"] = _number(options["--percent"], "--percent", 1)
    if "--min" in options:
        body["min_spend_cents"] = _number(options["--min"], "--min", 0)
    if "--watch" in options:
        body["watch_s_required"] = _duration(options["--watch"], "--watch")
    if "--for" in options:
        expires_in_ms = _duration(options["--for"], "--for") * 1000
        body["expires_at"] = int(time.time() * 1000) + expires_in_ms
    return FormatCall("POST", "/vouchers", "voucher", body)


def _auction(words: list[str]) -> FormatCall:
    usage = (
        "usage: auction start PRODUCT_ID START_CENTS [--for 30s] [--reserve CENTS] "
        "[--snipe 10s | --sudden-death], or auction end AUCTION_ID"
    )
    if words[:1] == ["end"]:
        return FormatCall("POST", f"/auctions/{_id(words, usage)}/end", "auction")
    if words[:1] != ["start"]:
        raise ValueError(usage)
    positional, options = _options(words[1:], {"--for", "--reserve", "--snipe"}, usage)
    if len(positional) != 2:
        raise ValueError(usage)
    body: dict[str, Any] = {
        "product_id": positional[0],
        "start_price_cents": _number(positional[1], "START_CENTS", 1),
        "duration_s": _duration(options.get("--for", "30s"), "--for"),
    }
    if "--reserve" in options:
        body["reserve_price_cents"] = _number(options["--reserve"], "--reserve", 0)
    if "--sudden-death" in options:
        if "--snipe" in options:
            raise ValueError("--snipe and --sudden-death exclude each other")
        body["sudden_death"] = True
    elif "--snipe" in options:
        body["anti_snipe_s"] = _duration(options["--snipe"], "--snipe")
    return FormatCall("POST", "/auctions", "auction", body)


def _giveaway(words: list[str]) -> FormatCall:
    usage = (
        "usage: giveaway start WINNERS TITLE… [--for 2m] [--product ID] [--watch 1m] "
        "[--buyers] [--keyword WORD], or giveaway end GIVEAWAY_ID"
    )
    if words[:1] == ["end"]:
        return FormatCall("POST", f"/api/giveaways/{_id(words, usage)}/end", "giveaway")
    if words[:1] != ["start"]:
        raise ValueError(usage)
    known = {"--for", "--product", "--watch", "--keyword"}
    positional, options = _options(words[1:], known, usage)
    if len(positional) < 2:
        raise ValueError(usage)
    eligibility: dict[str, Any] = {"buyers_only": "--buyers" in options}
    if "--watch" in options:
        eligibility["watch_s"] = _duration(options["--watch"], "--watch")
    if "--keyword" in options:
        eligibility["keyword"] = options["--keyword"]
    body: dict[str, Any] = {
        "title": " ".join(positional[1:]),
        "winners": _number(positional[0], "WINNERS", 1),
        "duration_s": _duration(options.get("--for", "2m"), "--for"),
        "eligibility": eligibility,
    }
    if "--product" in options:
        body["product_id"] = options["--product"]
    return FormatCall("POST", "/giveaways", "giveaway", body)


def _options(words: list[str], known: set[str], usage: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    options: dict[str, str] = {}
    items = iter(words)
    for word in items:
        if not word.startswith("--"):
            positional.append(word)
        elif word in FLAGS:
            options[word] = ""
        elif word in known:
            value = next(items, None)
            if value is None:
                raise ValueError(f"{word} needs a value")
            options[word] = value
        else:
            raise ValueError(f"unknown option {word}; {usage}")
    return positional, options


def _number(text: str, name: str, minimum: int) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, not {text!r}")
    return int(text)


def _duration(text: str, name: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


FORMAT_EVENTS = frozenset(
    {"voucher_dropped", "voucher_ended", "auction_bid", "auction_ended", "giveaway_ended"}
)


def event_line(frame: dict[str, Any]) -> tuple[str, str] | None:
    """The console's line for a voucher, auction or giveaway broadcast (None: not one)."""
    kind = frame.get("type")
    if kind not in FORMAT_EVENTS:
        return None
    if kind in ("voucher_dropped", "voucher_ended"):
        voucher = frame["voucher"]
        state = "dropped" if kind == "voucher_dropped" else "ended"
        return ("voucher", f"{state} {voucher['id']} {voucher['title']!r}, {voucher['left']} left")
    if kind == "auction_bid":
        cents = int(frame["amount_cents"])
        return ("auction", f"{frame['auction']}: {frame['leader']} leads at {cents / 100:.2f}")
    if kind == "auction_ended":
        if frame.get("winner"):
            cents = int(frame["amount_cents"])
            return (
                "auction",
                f"{frame['auction']} won by {frame['winner']} at {cents / 100:.2f} "
                f"(order {frame['order']})",
            )
        return ("auction", f"{frame['auction']} ended unsold ({frame.get('reason')})")
    winners = ", ".join(frame["winners"]) or "nobody"
    entrants = frame["entrants_count"]
    return ("giveaway", f"{frame['giveaway']}: {winners} won, of {entrants} entrants")
