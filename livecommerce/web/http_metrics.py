"""HTTP request metrics: every request counted by route template, method and status class,
and timed, as the outermost middleware.

Labels come from bounded sets, whatever a client sends: the matched resource's
canonical path (``/api/rooms/{room}``, ``/static``), ``unmatched`` for a path no
route serves (404) or a method it does not take (405); a known method or
``other``; the status class. A WebSocket upgrade is counted (``1xx``) but not
timed: its handler returns when the socket closes.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from livecommerce.metrics import HttpRequests

UNMATCHED = "unmatched"
OTHER_METHOD = "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SWITCHING_PROTOCOLS = 101


def route_template(request: web.Request) -> str:
    """The canonical path of the resource that matched ``request``, never its raw path."""
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER_METHOD


def http_metrics(requests: HttpRequests) -> Middleware:
    """The middleware that counts into ``requests``; put it first (outermost) so that
    it sees the answer the error middleware made of any failure."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        began = time.perf_counter()
        route, method = route_template(request), method_label(request.method)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a redirect, or an error no middleware answered
            requests.observe(route, method, exc.status, time.perf_counter() - began)
            raise
        except asyncio.CancelledError:  # the client went away: nothing was answered
            raise
        except Exception:
            requests.observe(route, method, 500, time.perf_counter() - began)
            raise
        took = None if response.status == SWITCHING_PROTOCOLS else time.perf_counter() - began
        requests.observe(route, method, response.status, took)
        return response

    return middleware
