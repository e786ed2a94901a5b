"""Reading and checking query-string parameters at the edge."""

from __future__ import annotations

import re

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode

# ASCII digits only: str.isdigit() and \d also accept "²" or "٣", which int() then refuses
# or reads as another number. Ten digits are more than any bound here needs.
DECIMAL = re.compile(r"[0-9]{1,10}")


def int_param(request: web.Request, name: str, low: int, high: int, default: int) -> int:
    """``?name=`` as an integer from ``low`` to ``high``; ``default`` when absent.

    Anything else (empty, signs, spaces, non-ASCII digits, out of range) is a 400
    ``invalid_parameter`` naming the bounds.
    """
    raw = request.query.get(name)
    if raw is None:
        return default
    if DECIMAL.fullmatch(raw) is None or not low <= int(raw) <= high:
        raise ApiError(
            ErrorCode.invalid_parameter, f"{name} must be an integer from {low} to {high}."
        )
    return int(raw)
