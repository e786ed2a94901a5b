"""Human durations: ``90``, ``90s``, ``10m``, ``2h``, ``1d``."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"^(\d+)([smhd]?)$")


def parse_duration(text: str) -> int:
    """Seconds in ``text``; ValueError with a readable message otherwise."""
    match = DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90, 30s, 10m, 2h or 1d")
    seconds = int(match.group(1)) * UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError("a duration must be longer than 0 seconds")
    return seconds
