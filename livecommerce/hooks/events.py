"""Outbox entries as typed events, and the webhook body built from them.

An entry of a room's outbox stream has the string fields ``id`` (the event id,
the ``webhook-id``), ``type``, ``timestamp`` (ms since the epoch) and ``data``
(a JSON object). :func:`parse_entry` raises :class:`ValueError` with an exact
message for anything else; such entries are dead-lettered, never retried.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

EVENT_TYPES = frozenset({"order.created", "order.paid", "order.cancelled", "order.expired"})

# The id goes into a header and into the signed content: printable ASCII without spaces.
_EVENT_ID = re.compile(r"[!-~]{1,256}")
# Year 9999 in ms: anything later cannot be formatted as an ISO date.
_MAX_TIMESTAMP_MS = 253_402_300_799_999


@dataclass(frozen=True)
class OutboxEvent:
    """One order event as read from an outbox stream."""

    id: str
    type: str
    timestamp_ms: int
    data: dict[str, Any]


def parse_entry(fields: dict[str, str]) -> OutboxEvent:
    """The event in an outbox entry's fields; ``ValueError`` names what is wrong."""
    event_id = fields.get("id")
    if event_id is None:
        raise ValueError("field 'id' is missing")
    if not _EVENT_ID.fullmatch(event_id):
        raise ValueError("field 'id' must be 1 to 256 printable ASCII characters without spaces")
    kind = fields.get("type")
    if kind is None:
        raise ValueError("field 'type' is missing")
    if kind not in EVENT_TYPES:
        known = ", ".join(sorted(EVENT_TYPES))
        raise ValueError(f"field 'type' is {kind[:64]!r}, not one of {known}")
    raw_timestamp = fields.get("timestamp")
    if raw_timestamp is None:
        raise ValueError("field 'timestamp' is missing")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        raise ValueError("field 'timestamp' must be milliseconds since the epoch (digits only)")
    timestamp_ms = int(raw_timestamp)
    if timestamp_ms > _MAX_TIMESTAMP_MS:
        raise ValueError("field 'timestamp' is after the year 9999")
    raw_data = fields.get("data")
    if raw_data is None:
        raise ValueError("field 'data' is missing")
    try:
        data = json.loads(raw_data)
    except ValueError as exc:
        raise ValueError(f"field 'data' is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("field 'data' must be a JSON object")
    return OutboxEvent(event_id, kind, timestamp_ms, data)


def iso_timestamp(timestamp_ms: int) -> str:
    """``2026-11-25T18:00:00.123Z`` for a time in ms since the epoch (UTC)."""
    seconds, millis = divmod(timestamp_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def webhook_body(event: OutboxEvent) -> bytes:
    """The POST body: ``{"type", "timestamp", "data"}``, the same bytes on every attempt."""
    payload = {
        "type": event.type,
        "timestamp": iso_timestamp(event.timestamp_ms),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
