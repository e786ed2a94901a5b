"""Client → server messages, parsed at the edge into typed values.

Every string a message carries is checked here: identifiers (``sale``, ``key``)
are 1..``MAX_KEY_CHARS`` printable characters; chat text is cleaned by
:func:`~livecommerce.channel.text.clean_chat_text`. (The decoder has already
refused strings that are not valid Unicode.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


ClientMessage = Chat | Like | Ping | Buy
KNOWN_TYPES = ("chat", "like", "ping", "buy")
MAX_KEY_CHARS = 128
MAX_BUY_QTY = 1000


def _field(frame: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = frame.get(name, default)
    if value is None and default is None:
        raise ProtocolError("missing_field", f"'{frame['type']}' needs a '{name}' field.")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProtocolError(
            "invalid_field", f"'{name}' of '{frame['type']}' must be {kind.__name__}."
        )
    return value


def parse_client_message(
    frame: dict[str, Any], max_chat_chars: int, max_likes: int
) -> ClientMessage:
    """Check a decoded frame's fields; :class:`ProtocolError` names the problem."""
    kind = frame["type"]
    if kind == "chat":
        return Chat(clean_chat_text(_field(frame, "text", str), max_chat_chars))
    if kind == "like":
        count = _field(frame, "count", int, default=1)
        if not 1 <= count <= max_likes:
            raise ProtocolError(
                "invalid_field", f"'count' of 'like' must be from 1 to {max_likes}."
            )
        return Like(count)
    if kind == "ping":
        return Ping()
    if kind == "buy":
        sale = _field(frame, "sale", str)
        qty = _field(frame, "qty", int, default=1)
        key = _field(frame, "key", str)
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
        return Buy(sale, qty, key)
    raise ProtocolError(
        "unknown_type", f"Unknown frame type {str(kind)[:40]!r}; known: {', '.join(KNOWN_TYPES)}."
    )
