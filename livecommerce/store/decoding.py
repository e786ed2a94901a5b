"""Store replies as text: a value (bytes or not) and stream entries (XRANGE / XREVRANGE)."""

from __future__ import annotations

from typing import Any

StreamEntry = tuple[str, dict[str, str]]


def as_text(value: Any) -> str:
    """A reply value as text: bytes decoded as UTF-8, anything else through ``str``."""
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_entries(reply: Any) -> list[StreamEntry]:
    """``[(id, {field: value})]`` with every part as text; deleted entries are skipped."""
    entries: list[StreamEntry] = []
    for entry_id, fields in reply or ():
        if fields is None:
            continue
        entries.append((as_text(entry_id), {as_text(k): as_text(v) for k, v in fields.items()}))
    return entries
