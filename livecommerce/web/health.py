"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.client import ping
from livecommerce.web.access import admits_anyone
from livecommerce.web.state import STORE

READINESS_TIMEOUT_S = 1.0


@admits_anyone
async def healthz(request: web.Request) -> web.Response:
    """200 while the process runs."""
    return web.json_response({"status": "ok"})


@admits_anyone
async def readyz(request: web.Request) -> web.Response:
    """200 when the store answers PING, 503 otherwise."""
    if not await ping(request.app[STORE], READINESS_TIMEOUT_S):
        raise ApiError(ErrorCode.store_unavailable, headers={"Retry-After": "1"})
    return web.json_response({"status": "ready"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
