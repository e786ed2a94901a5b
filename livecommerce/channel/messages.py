"""Client → server messages, parsed at the edge into typed values.

Every string a message carries is checked here: identifiers (``sale``, ``key``)
are 1..``MAX_KEY_CHARS`` printable characters; chat text is cleaned by
:func:`~livecommerce.channel.text.clean_chat_text`. (The decoder has already
refused strings that are not valid Unicode.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from livecommerce.channel.events import CLIENT
from livecommerce.channel.format_messages import FORMAT_TYPES, FormatMessage, parse_format_message
from livecommerce.channel.frames.analytics import ViewProduct as ViewProduct
from livecommerce.channel.frames.analytics import parse_view_product
from livecommerce.channel.text import clean_chat_text, is_printable_identifier
from livecommerce.channel.wire import ProtocolError


@dataclass(frozen=True)
class Chat:
    text: str


@dataclass(frozen=True)
class Like:
    count: int


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Buy:
    sale: str
    qty: int
    key: str
    voucher_claim: str = ""  # a claim id, "best", or "" for none


@dataclass(frozen=True)
class Report:
    message: str
    reason: str = ""


ClientMessage = Chat | Like | Ping | Buy | ViewProduct | Report | FormatMessage
KNOWN_TYPES = tuple(CLIENT)
MAX_KEY_CHARS = 128
MAX_BUY_QTY = 1000
MAX_REPORT_REASON_CHARS = 200


def _text(frame: Mapping[str, object], name: str) -> str:
    value = frame.get(name)
    if value is None:
        raise ProtocolError("missing_field", f"'{frame['type']}' needs a '{name}' field.")
    if not isinstance(value, str):
        raise ProtocolError("invalid_field", f"'{name}' of '{frame['type']}' must be str.")
    return value


def _int(frame: Mapping[str, object], name: str, default: int) -> int:
    value = frame.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError("invalid_field", f"'{name}' of '{frame['type']}' must be int.")
    return value


def parse_client_message(
    frame: Mapping[str, object], max_chat_chars: int, max_likes: int
) -> ClientMessage:
    """Check a decoded frame's fields; :class:`ProtocolError` names the problem."""
    kind = frame["type"]
    if kind == "chat":
        return Chat(clean_chat_text(_text(frame, "text"), max_chat_chars))
    if kind == "like":
        count = _int(frame, "count", default=1)
        if not 1 <= count <= max_likes:
            raise ProtocolError(
                "invalid_field", f"'count' of 'like' must be from 1 to {max_likes}."
            )
        return Like(count)
    if kind == "ping":
        return Ping()
    if kind == "buy":
        sale = _text(frame, "sale")
        qty = _int(frame, "qty", default=1)
        key = _text(frame, "key")
        if not (
            is_printable_identifier(key, MAX_KEY_CHARS)
            and is_printable_identifier(sale, MAX_KEY_CHARS)
        ):
            raise ProtocolError(
                "invalid_field",
                f"'sale' and 'key' of 'buy' must be 1 to {MAX_KEY_CHARS} printable characters.",
            )
        if not 1 <= qty <= MAX_BUY_QTY:
            raise ProtocolError("invalid_field", f"'qty' of 'buy' must be from 1 to {MAX_BUY_QTY}.")
        claim = frame.get("voucher_claim")
        if claim is not None and not (
            isinstance(claim, str) and is_printable_identifier(claim, MAX_KEY_CHARS)
        ):
            raise ProtocolError(
                "invalid_field",
                f"'voucher_claim' of 'buy' must be 1 to {MAX_KEY_CHARS} printable characters.",
            )
        return Buy(sale, qty, key, claim or "")
    if kind == "view_product":
        return parse_view_product(frame)
    if kind == "report":
        return _report(frame)
    if kind in FORMAT_TYPES:
        return parse_format_message(frame)
    raise ProtocolError(
        "unknown_type", f"Unknown frame type {str(kind)[:40]!r}; known: {', '.join(KNOWN_TYPES)}."
    )


def _report(frame: Mapping[str, object]) -> Report:
    message = _text(frame, "message")
    if not is_printable_identifier(message, MAX_KEY_CHARS):
        raise ProtocolError("invalid_field", "'message' of 'report' must be a message id.")
    reason = frame.get("reason", "")
    if not isinstance(reason, str):
        raise ProtocolError("invalid_field", "'reason' of 'report' must be str.")
    reason = reason.strip()
    if len(reason) > MAX_REPORT_REASON_CHARS or not (reason.isprintable() or reason == ""):
        raise ProtocolError(
            "invalid_field",
            f"'reason' of 'report' must be at most {MAX_REPORT_REASON_CHARS} printable characters.",
        )
    return Report(message, reason)
