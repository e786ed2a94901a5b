"""``create_app(settings)``: wires the routes and owns the app's resources."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from livecommerce.auth import resolve_secret
from livecommerce.bus import StoreRoomBus
from livecommerce.config import Settings
from livecommerce.rooms.service import RoomService
from livecommerce.store import client as store_client
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.streams.service import StreamService
from livecommerce.web import health, rooms, whep, whip
from livecommerce.web.errors import body_limit, json_errors
from livecommerce.web.sdp_http import cors_middleware
from livecommerce.web.state import BUS, ROOMS, SETTINGS, SIGNING_SECRET, STORE, STREAMS
from media.limits import raise_open_files_limit
from media.loopback import include_loopback_candidates
from media.whep_client import AiohttpWhepClient

log = logging.getLogger("livecommerce.app")


async def _store(app: web.Application) -> AsyncIterator[None]:
    """The store client and the services built on it; closed last."""
    settings = app[SETTINGS]
    client = store_client.connect(
        settings.store.url,
        connect_timeout_s=settings.store.connect_timeout_s,
        command_timeout_s=settings.store.command_timeout_s,
        retries=settings.store.retries,
    )
    app[STORE] = client
    if not await store_client.ping(client, settings.store.connect_timeout_s):
        log.warning(
            "store at %s is not answering yet; /readyz says 503 until it does",
            store_client.mask_url(settings.store.url),
        )
    keys = Keys(settings.store.key_prefix)
    bus = StoreRoomBus(client, keys)
    await bus.start()
    app[BUS] = bus
    app[ROOMS] = RoomService(client, keys, ScriptRunner(client), bus)
    yield
    await bus.stop()
    await client.aclose()


async def _media(app: web.Application) -> AsyncIterator[None]:
    """The media plane; closed before the store so going offline is still recorded."""
    settings = app[SETTINGS]
    if settings.media.loopback_candidates:
        include_loopback_candidates()
    raise_open_files_limit()
    streams = StreamService(
        app[ROOMS],
        app[BUS],
        settings.media,
        viewer_token_required=settings.auth.viewer_token_required,
        whep_client=AiohttpWhepClient(),
    )
    app[STREAMS] = streams
    streams.start()
    yield
    await streams.close()


def create_app(settings: Settings) -> web.Application:
    """The HTTP application for one node; ``settings.store.url`` must name the store."""
    if not settings.store.url:
        raise ValueError(
            "create_app needs store.url; `livecommerce serve` starts an embedded store"
        )
    app = web.Application(
        middlewares=[cors_middleware(settings.media), json_errors, body_limit],
        client_max_size=settings.server.max_body_bytes,
    )
    app[SETTINGS] = settings
    secret = resolve_secret(settings.auth.secret, settings.store.data_dir)
    if secret.generated:
        log.warning(
            "generated a new token signing secret in %s (set auth.secret to use your own)",
            secret.source,
        )
    app[SIGNING_SECRET] = secret.value
    app.cleanup_ctx.append(_store)
    app.cleanup_ctx.append(_media)
    health.add_routes(app)
    rooms.add_routes(app)
    whip.add_routes(app)
    whep.add_routes(app)
    return app
