"""Reading and checking JSON request bodies at the edge."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode

JSON_TYPES = ("application/json",)


async def read_json_object(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object; 415/400/413 errors as in the catalogue."""
    if request.content_length == 0 or (not request.body_exists):
        if allow_empty:
            return {}
        raise ApiError(ErrorCode.invalid_body, "The request body is empty; send a JSON object.")
    if request.content_type not in JSON_TYPES:
        raise ApiError(
            ErrorCode.unsupported_media_type,
            f"Send Content-Type: application/json, not {request.content_type!r}.",
        )
    raw = await request.read()
    if not raw.strip() and allow_empty:
        return {}
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            ErrorCode.invalid_json, f"The request body is not valid JSON: {exc}."
        ) from None
    if not isinstance(value, dict):
        raise ApiError(ErrorCode.invalid_body, "The request body must be a JSON object.")
    return value


def reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        raise ApiError(
            ErrorCode.unknown_field,
            f"Unknown field {extra[0]!r}; this endpoint takes: {', '.join(sorted(allowed))}.",
            field=extra[0],
        )


def text_field(
    body: dict[str, Any], name: str, *, max_chars: int, required: bool, default: str = ""
) -> str:
    """A string field, stripped; non-empty when required."""
    if name not in body or body[name] is None:
        if required:
            raise ApiError(ErrorCode.missing_field, f"Field {name!r} is required.", field=name)
        return default
    value = body[name]
    if not isinstance(value, str):
        raise ApiError(ErrorCode.invalid_field, f"Field {name!r} must be a string.", field=name)
    value = value.strip()
    if required and not value:
        raise ApiError(ErrorCode.invalid_field, f"Field {name!r} must not be empty.", field=name)
    if len(value) > max_chars:
        raise ApiError(
            ErrorCode.invalid_field,
            f"Field {name!r} must be at most {max_chars} characters.",
            field=name,
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ApiError(
            ErrorCode.invalid_field, f"Field {name!r} has control characters.", field=name
        )
    return value


def optional_int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    """An integer field from ``low`` to ``high``; None when absent or null."""
    if body.get(name) is None:
        return None
    value = body[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ApiError(
            ErrorCode.invalid_field,
            f"Field {name!r} must be an integer from {low} to {high}.",
            field=name,
        )
    return value


def required_int(body: dict[str, Any], name: str, low: int, high: int) -> int:
    """An integer field from ``low`` to ``high`` that must be present."""
    value = optional_int(body, name, low, high)
    if value is None:
        raise ApiError(ErrorCode.missing_field, f"Field {name!r} is required.", field=name)
    return value
