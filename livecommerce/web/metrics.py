"""``GET /metrics``: the node's Prometheus metrics (see ``docs/metrics.md``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.metrics import NodeReading
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.web.access import admits, admits_anyone
from livecommerce.web.state import HOOKS, HUB, LIVE, METRICS, ROOMS, SETTINGS

# The text format every Prometheus reads (our names need none of version 1.0.0's escaping).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
# A scrape waits at most this long for each count read from the store (rooms live, dead
# letters); a gauge is left out of that scrape when the store is slower.
STORE_COUNT_TIMEOUT_S = 0.5


async def _store_count(count: Awaitable[int]) -> int | None:
    try:
        async with asyncio.timeout(STORE_COUNT_TIMEOUT_S):
            return await count
    except STORE_UNAVAILABLE_ERRORS:
        return None


async def node_reading(app: web.Application) -> NodeReading:
    """What a scrape reads now: sockets and media sessions here, the hook backlog as the
    dispatcher last saw it, rooms live and dead letters in the store."""
    hub, streams, rooms, hooks = app.get(HUB), app.get(LIVE), app.get(ROOMS), app.get(HOOKS)
    media = streams.hub if streams is not None else None
    counts = media.counts() if media is not None else None
    return NodeReading(
        channel_sockets=hub.session_counts() if hub is not None else {},
        publications=counts.publications if counts else 0,
        pulls=counts.pulls if counts else 0,
        media_viewers=counts.viewers if counts else 0,
        media=media.counters.totals() if media is not None else {},
        rooms_live=await _store_count(rooms.count_live()) if rooms is not None else None,
        hook_backlog=hooks.backlog() if hooks is not None else {},
        hook_dead_letters=(
            await _store_count(hooks.dead_letter_count()) if hooks is not None else None
        ),
    )


async def _scrape(request: web.Request) -> web.Response:
    body = request.app[METRICS].render(await node_reading(request.app))
    return web.Response(body=body, headers={"Content-Type": TEXT_FORMAT})


scrape_public = admits_anyone(_scrape)
scrape_admin = admits(Role.admin)(_scrape)


def add_routes(app: web.Application) -> None:
    """``/metrics`` when ``metrics.enabled``: for anyone, or admins when not public."""
    settings = app[SETTINGS].metrics
    if settings.enabled:
        app.router.add_get("/metrics", scrape_public if settings.public else scrape_admin)
