"""Reading and checking JSON request bodies at the edge."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode

JSON_TYPES = ("application/json",)
# Deeper than any endpoint's body; a deeper document is refused before anything walks it.
MAX_JSON_DEPTH = 32
# Digits of an integer literal: more than any field's bound (prices, timestamps in ms), far
# fewer than Python's int-from-string limit (4,300), whose ValueError would otherwise escape.
MAX_INT_DIGITS = 30
# Unpaired UTF-16 surrogates: JSON's "\ud800" escape decodes to one, and no store, codec or
# browser can encode it back.
SURROGATE = re.compile("[\ud800-\udfff]")


class RefusedJsonError(ValueError):
    """The body is JSON that this server does not take (the message says why)."""


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise RefusedJsonError(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RefusedJsonError(f"the number {text[:40]} is too large")
    return value


def _parse_constant(name: str) -> float:
    raise RefusedJsonError(f"{name} is not a JSON value")


def _check_tree(value: Any) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings with unpaired surrogates;
    iterative, so the walk itself cannot recurse too deeply."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                raise RefusedJsonError(
                    "a string holds an unpaired UTF-16 surrogate (\\ud800-\\udfff)"
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise RefusedJsonError(f"it is nested deeper than {MAX_JSON_DEPTH} levels")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)


def parse_json(raw: bytes) -> Any:
    """Strict JSON (RFC 8259) from UTF-8 bytes; :class:`ApiError` ``invalid_json`` otherwise.

    Refused, each with a 400 that says why: bytes that are not UTF-8, syntax errors,
    NaN and Infinity, integers over :data:`MAX_INT_DIGITS` digits, numbers too large for a
    float, nesting over :data:`MAX_JSON_DEPTH` levels, unpaired surrogates.
    """
    try:
        value = json.loads(
            raw.decode("utf-8-sig"),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
        _check_tree(value)
    except UnicodeDecodeError:
        raise ApiError(ErrorCode.invalid_json, "The request body is not UTF-8 text.") from None
    except RefusedJsonError as exc:
        raise ApiError(ErrorCode.invalid_json, f"The request body is refused: {exc}.") from None
    except RecursionError:
        raise ApiError(
            ErrorCode.invalid_json,
            f"The request body is refused: it is nested deeper than {MAX_JSON_DEPTH} levels.",
        ) from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            ErrorCode.invalid_json, f"The request body is not valid JSON: {exc}."
        ) from None
    return value


async def read_json_object(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object (see :func:`parse_json`); 415/400/413 errors as in the
    catalogue."""
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
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise ApiError(ErrorCode.invalid_body, "The request body must be a JSON object.")
    return value


def reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(body) - allowed)
    if extra:
        takes = f"takes: {', '.join(sorted(allowed))}" if allowed else "takes no fields"
        raise ApiError(
            ErrorCode.unknown_field,
            f"Unknown field {extra[0]!r}; this endpoint {takes}.",
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
    if not value.isprintable() and any(_spoofing(c) for c in value):
        raise ApiError(
            ErrorCode.invalid_field,
            f"Field {name!r} has control or bidi override characters.",
            field=name,
        )
    return value


# Reorder or hide what viewers read (a title shown as "evil.com" spelled backwards).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _spoofing(char: str) -> bool:
    """Controls other than tab and newline (C0, DEL, C1), line/paragraph separators and
    bidi embeddings, overrides and isolates: refused in every text field."""
    if char in "\n\t":
        return False
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS


def web_url_field(body: dict[str, Any], name: str, *, max_chars: int) -> str:
    """An http(s) URL with a host, or a path on this site (``/...``); empty when absent.

    Protocol-relative ``//host`` (and ``/\\host``, which browsers read the same way) and
    every other scheme (``javascript:``, ``data:``) are refused: a page shows these URLs.
    """
    value = text_field(body, name, max_chars=max_chars, required=False)
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        web_url = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        web_url = False
    site_path = value.startswith("/") and not value.startswith("//")
    if any(c.isspace() or c in '\\<>"' for c in value) or not (site_path or web_url):
        raise ApiError(
            ErrorCode.invalid_field,
            f"Field {name!r} must be an http(s) URL or a path on this site starting with '/'.",
            field=name,
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
