"""Turns every failure into the JSON error body of CONTRACT.md."""

from __future__ import annotations

import logging

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode, error_for_status
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.web.access import Handler
from livecommerce.web.state import METRICS

log = logging.getLogger("livecommerce.web")

# Headers of framework errors worth passing on (405 lists what is allowed).
KEPT_HEADERS = ("Allow", "Retry-After")


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Catch errors of any kind below and answer with ``{"error": {code, message}}``."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = error_for_status(exc.status)
        headers = {h: exc.headers[h] for h in KEPT_HEADERS if h in exc.headers}
        message = code.spec.message
        if exc.status == 400:
            # The framework's own sentence when it gave one (e.g. a WebSocket route asked
            # without an upgrade), not the catalogue's sentence about JSON bodies.
            given = (exc.text or "").strip()
            has_sentence = given and not given.startswith(f"{exc.status}:")
            message = given[:200] if has_sentence else "The request is not valid."
        elif exc.status == 413:
            limit = request.app._client_max_size
            message = f"The request body is larger than the limit of {limit} bytes."
        return error_response(ApiError(code, message, headers=headers))
    except STORE_UNAVAILABLE_ERRORS as exc:
        log.warning("store unavailable during %s %s: %s", request.method, request.path, exc)
        request.app[METRICS].store_unavailable.inc("http")
        return error_response(ApiError(ErrorCode.store_unavailable, headers={"Retry-After": "1"}))
    except Exception:
        log.exception("unhandled error during %s %s", request.method, request.path)
        return error_response(ApiError(ErrorCode.internal_error))


@web.middleware
async def body_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a declared oversize body before reading any of it."""
    limit = request.app._client_max_size
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(
            ErrorCode.body_too_large, f"The request body is larger than the limit of {limit} bytes."
        )
    return await handler(request)
