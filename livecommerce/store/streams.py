"""Decoding stream replies (XRANGE / XREVRANGE) into plain text."""

from __future__ import annotations

from typing import Any

StreamEntry = tuple[str, dict[str, str]]


def as_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_entries(reply: Any) -> list[StreamEntry]:
    """``[(id, {field: value})]`` with every part as text; deleted entries are skipped."""
    entries: list[StreamEntry] = []
    for entry_id, fields in reply or ():
        if fields is None:
            continue
        entries.append((as_text(entry_id), {as_text(k): as_text(v) for k, v in fields.items()}))
    return entries
