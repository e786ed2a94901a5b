"""Client → server frames of the selling formats (``claim``, ``bid``, ``enter``), parsed
at the edge like :mod:`livecommerce.channel.messages` parses the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from livecommerce.channel.text import is_printable_identifier
from livecommerce.channel.wire import ProtocolError

MAX_ID_CHARS = 128
MAX_BID_CENTS = 10_000_000_000


@dataclass(frozen=True)
class Claim:
    voucher: str
    key: str


@dataclass(frozen=True)
class Bid:
    auction: str
    amount_cents: int
    max_cents: int  # 0: no proxy maximum
    key: str


@dataclass(frozen=True)
class Enter:
    giveaway: str
    key: str | None = None  # optional: echoed in the answer so a client can match it


FormatMessage = Claim | Bid | Enter
FORMAT_TYPES = ("claim", "bid", "enter")


def _identifier(frame: Mapping[str, object], name: str) -> str:
    value = frame.get(name)
    kind = frame["type"]
    if value is None:
        raise ProtocolError("missing_field", f"'{kind}' needs a '{name}' field.")
    if not isinstance(value, str) or not is_printable_identifier(value, MAX_ID_CHARS):
        raise ProtocolError(
            "invalid_field",
            f"'{name}' of '{kind}' must be 1 to {MAX_ID_CHARS} printable characters.",
        )
    return value


def _cents(frame: Mapping[str, object], name: str, *, required: bool) -> int:
    value = frame.get(name)
    kind = frame["type"]
    if value is None and not required:
        return 0
    if value is None:
        raise ProtocolError("missing_field", f"'{kind}' needs a '{name}' field.")
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_BID_CENTS:
        raise ProtocolError(
            "invalid_field", f"'{name}' of '{kind}' must be an integer from 1 to {MAX_BID_CENTS}."
        )
    return value


def parse_format_message(frame: Mapping[str, object]) -> FormatMessage:
    """A ``claim``, ``bid`` or ``enter`` frame checked field by field; :class:`ProtocolError`
    names the problem."""
    kind = frame["type"]
    if kind == "claim":
        return Claim(_identifier(frame, "voucher"), _identifier(frame, "key"))
    if kind == "bid":
        auction = _identifier(frame, "auction")
        amount = _cents(frame, "amount_cents", required=True)
        maximum = _cents(frame, "max_cents", required=False)
        if maximum and maximum < amount:
            raise ProtocolError(
                "invalid_field", "'max_cents' of 'bid' must be at least 'amount_cents'."
            )
        return Bid(auction, amount, maximum, _identifier(frame, "key"))
    if kind == "enter":
        key = _identifier(frame, "key") if frame.get("key") is not None else None
        return Enter(_identifier(frame, "giveaway"), key)
    raise ProtocolError("unknown_type", f"{str(kind)[:40]!r} is not a selling-format frame.")
