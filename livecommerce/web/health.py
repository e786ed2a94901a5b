"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.client import ping
from livecommerce.store.schema import SchemaGate
from livecommerce.web.access import admits_anyone
from livecommerce.web.state import STORE

READINESS_TIMEOUT_S = 1.0
# Set when the node starts draining (SIGTERM): /readyz answers 503 from then on.
DRAINING = web.AppKey("draining", asyncio.Event)
# The schema check, done at start-up or (when the store did not answer then) here.
SCHEMA_GATE = web.AppKey("schema_gate", SchemaGate)


@admits_anyone
async def healthz(request: web.Request) -> web.Response:
    """200 while the process runs."""
    return web.json_response({"status": "ok"})


@admits_anyone
async def readyz(request: web.Request) -> web.Response:
    """200 when the store answers PING and the node is not draining, 503 otherwise."""
    if request.app[DRAINING].is_set():
        raise ApiError(ErrorCode.shutting_down, headers={"Retry-After": "1"})
    if not await ping(request.app[STORE], READINESS_TIMEOUT_S):
        raise ApiError(ErrorCode.store_unavailable, headers={"Retry-After": "1"})
    if not await request.app[SCHEMA_GATE].check():  # the reason is logged, not shown
        raise ApiError(ErrorCode.store_unavailable, headers={"Retry-After": "1"})
    return web.json_response({"status": "ready"})


def add_routes(app: web.Application) -> None:
    app[DRAINING] = asyncio.Event()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
