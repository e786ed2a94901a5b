"""``create_app(settings)``: wires the routes and owns the app's resources."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from livecommerce.analytics.service import Analytics
from livecommerce.auth import resolve_secret
from livecommerce.bus import StoreRoomBus
from livecommerce.channel.chat import ChatService
from livecommerce.channel.events import check_delivery
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.likes import LikeCounter
from livecommerce.channel.presence import Presence
from livecommerce.commerce.catalog import Catalog
from livecommerce.commerce.orders import OrderService
from livecommerce.commerce.sales import SaleService
from livecommerce.commerce.stats import Stats
from livecommerce.commerce.worker import CommerceWorker
from livecommerce.config import Settings
from livecommerce.context import StoreContext
from livecommerce.errors import ErrorCode
from livecommerce.hooks.dispatcher import HookDispatcher
from livecommerce.live.service import LiveService
from livecommerce.metrics import Metrics
from livecommerce.moderation.automod_service import AutomodService
from livecommerce.moderation.review import ReviewService
from livecommerce.moderation.service import ModerationService
from livecommerce.nodes.registry import NodeRegistry
from livecommerce.replays.s3 import S3Bucket, s3_config
from livecommerce.replays.service import RecordingService
from livecommerce.rooms.discovery import Discovery
from livecommerce.rooms.retention import RoomRetention
from livecommerce.rooms.service import RoomService
from livecommerce.store import client as store_client
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.store.schema import SchemaGate, ensure_schema
from livecommerce.web import (
    analytics,
    api_docs,
    channel,
    commerce,
    cors,
    demo,
    formats,
    formats_app,
    health,
    hls,
    metrics,
    moderation,
    nodes,
    orders,
    pages,
    product_images,
    replays,
    review,
    rooms,
    whep,
    whip,
)
from livecommerce.web.client_address import TRUSTED_PROXIES, TrustedProxies
from livecommerce.web.errors import body_limit, json_errors
from livecommerce.web.headers import add_headers
from livecommerce.web.health import SCHEMA_GATE
from livecommerce.web.http_metrics import http_metrics
from livecommerce.web.node_calls import node_signer
from livecommerce.web.state import (
    ANALYTICS,
    AUTOMOD,
    BUS,
    CATALOG,
    CHAT,
    DISCOVERY,
    HOOKS,
    HUB,
    LIKES,
    LIVE,
    METRICS,
    MODERATION,
    NODE_HTTP,
    NODE_ID,
    NODES,
    ORDERS,
    PRESENCE,
    RECORDINGS,
    REVIEW,
    ROOMS,
    SALES,
    SETTINGS,
    SIGNING_SECRET,
    STATS,
    STORE,
    STORE_CONTEXT,
)
from media import aiortc_patches
from media.limits import raise_open_files_limit
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
        max_connections=settings.store.max_connections,
    )
    app[STORE] = client
    keys = Keys(settings.store.key_prefix)
    scripts = ScriptRunner(client, metrics=app[METRICS])
    schema = app[SCHEMA_GATE] = SchemaGate(
        client, keys, scripts, lock_s=settings.store.schema_lock_s
    )
    if await store_client.ping(client, settings.store.connect_timeout_s):
        await store_client.warm(
            client, min(settings.store.warm_connections, settings.store.max_connections)
        )
        await scripts.load_all()
        try:
            await ensure_schema(client, keys, scripts, lock_s=settings.store.schema_lock_s)
        except BaseException:
            await client.aclose()
            raise
        schema.checked = True
    else:
        log.warning(
            "store at %s is not answering yet; /readyz says 503 until it does",
            store_client.mask_url(settings.store.url),
        )
    bus = StoreRoomBus(client, keys, check=check_delivery)
    await bus.start()
    app[BUS] = bus
    # The replicas' acknowledgement (store.min_replicas_ack) is waited for on the same
    # connection as the write: every money script goes through this batcher then.
    durable = (
        StoreBatcher(
            client,
            scripts=scripts,
            metrics=app[METRICS],
            min_replicas_ack=settings.store.min_replicas_ack,
            replica_ack_timeout_s=settings.store.replica_ack_timeout_s,
        )
        if settings.store.min_replicas_ack
        else None
    )
    store = StoreContext(
        client=client, keys=keys, scripts=scripts, bus=bus, metrics=app[METRICS], durable=durable
    )
    app[STORE_CONTEXT] = store
    app[ROOMS] = RoomService(store=store)
    app[DISCOVERY] = Discovery(store=store, settings=settings.discovery)
    app[AUTOMOD] = AutomodService(store=store, settings=settings.moderation)
    app[CHAT] = ChatService(
        store=store,
        settings=settings.channel,
        discovery=settings.discovery,
        gatekeeper=app[AUTOMOD],
    )
    app[MODERATION] = ModerationService(store=store, settings=settings.moderation)
    app[REVIEW] = ReviewService(
        store=store, settings=settings.moderation, history_size=settings.channel.history_size
    )
    app[CATALOG] = Catalog(store=store)
    app[SALES] = SaleService(store=store)
    batcher = durable or (
        StoreBatcher(client, scripts=scripts, metrics=store.metrics)
        if settings.commerce.batch_buys
        else None
    )
    app[ORDERS] = OrderService(
        store=store,
        discovery=settings.discovery,
        batcher=batcher,
        max_in_flight=settings.store.max_connections,
        wait_s=settings.store.command_timeout_s,
        order_retention_s=settings.commerce.order_retention_days * 86_400,
        analytics=settings.analytics.exact_users_max if settings.analytics.enabled else None,
        idempotency_ttl_s=settings.commerce.idempotency_ttl_s,
        daily_buyers_ttl_s=settings.commerce.daily_buyers_retention_days * 86_400,
    )
    app[STATS] = Stats(store=store)
    yield
    if batcher is not None:
        await batcher.aclose()
    await bus.stop()
    await client.aclose()


async def _analytics(app: web.Application) -> AsyncIterator[None]:
    """Seller analytics and its watch-time reports; stopped after the channel's sockets
    closed, so their last spans are reported."""
    service = Analytics(store=app[STORE_CONTEXT], settings=app[SETTINGS].analytics)
    app[ANALYTICS] = service
    service.start()
    yield
    await service.stop()


async def _rooms(app: web.Application) -> AsyncIterator[None]:
    """The room retention sweep (ended rooms deleted after ``rooms.retention_days``)."""
    settings = app[SETTINGS].rooms
    retention = RoomRetention(
        store=app[STORE_CONTEXT],
        retention_days=settings.retention_days,
        interval_s=settings.sweep_interval_s,
        before_delete=app[ANALYTICS].freeze_if_missing,
    )
    retention.start()
    yield
    await retention.stop()


async def _channel(app: web.Application) -> AsyncIterator[None]:
    """The channel's background work: like batching and viewer counts; stopped first."""
    settings = app[SETTINGS].channel
    store = app[STORE_CONTEXT]
    likes = LikeCounter(store=store, settings=settings, discovery=app[SETTINGS].discovery)
    presence = Presence(store=store, node_id=app[NODE_ID], ttl_s=settings.presence_ttl_s)
    hub = ChannelHub(app[BUS], presence, settings.viewers_interval_s, settings=settings)
    app[LIKES], app[HUB], app[PRESENCE] = likes, hub, presence
    likes.start()
    hub.start()
    yield
    await hub.stop()
    await likes.stop()


# The close reason of a drain (at most 123 bytes): the client should come back at once.
DRAIN_CLOSE_REASON = "node draining: reconnect now, through the load balancer"


async def _hand_over(app: web.Application) -> None:
    """Drain: this node's rooms go offline now, so their anchors move to another node."""
    await app[LIVE].hand_over()


async def _close_channels(app: web.Application) -> None:
    """Close channel sockets first (4503, reconnect elsewhere): aiohttp waits for open
    handlers before cleanup runs. Each stops reading frames and closes once the frame it
    handles is answered (up to ``server.shutdown_timeout_s``)."""
    await app[HUB].drain_sessions(
        ErrorCode.shutting_down.spec.close_code,
        DRAIN_CLOSE_REASON,
        app[SETTINGS].server.shutdown_timeout_s,
    )


async def _hooks(app: web.Application) -> AsyncIterator[None]:
    """The hook dispatcher: outbox events to the webhook endpoints; stopped before the store."""
    store = app[STORE_CONTEXT]
    dispatcher = HookDispatcher(
        client=store.client,
        keys=store.keys,
        scripts=store.scripts,
        settings=app[SETTINGS].hooks,
        node_id=app[NODE_ID],
        metrics=store.metrics,
    )
    app[HOOKS] = dispatcher
    dispatcher.start()
    yield
    await dispatcher.stop()


async def _commerce(app: web.Application) -> AsyncIterator[None]:
    """Expiry sweeps, sale state changes and stock broadcasts; stopped before the store."""
    settings = app[SETTINGS].commerce
    worker = CommerceWorker(
        orders=app[ORDERS],
        sales=app[SALES],
        bus=app[BUS],
        sweep_interval_s=settings.sweep_interval_s,
        stock_interval_s=settings.stock_interval_s,
    )
    worker.start()
    yield
    await worker.stop()


async def _nodes(app: web.Application) -> AsyncIterator[None]:
    """This node in the registry, and the HTTP client for requests passed to other nodes;
    the entry is removed after the media plane closed (its rooms went offline first)."""
    settings = app[SETTINGS]
    registry = NodeRegistry(
        client=app[STORE],
        keys=app[STORE_CONTEXT].keys,
        node_id=app[NODE_ID],
        url=settings.public_url,
        heartbeat_s=settings.server.node_heartbeat_s,
    )
    app[NODES] = registry
    app[NODE_HTTP] = aiohttp.ClientSession()
    registry.start()
    yield
    await registry.stop()
    await app[NODE_HTTP].close()


async def _alive(registry: NodeRegistry, node_id: str) -> bool:
    return await registry.find(node_id) is not None


async def _recording(app: web.Application) -> AsyncIterator[None]:
    """Recordings and replays; stopped after the media plane, so recordings finish."""
    settings = app[SETTINGS]
    http = aiohttp.ClientSession() if settings.recording.s3_bucket else None
    recordings = RecordingService(
        store=app[STORE_CONTEXT],
        settings=settings.recording,
        data_dir=settings.store.data_dir,
        node_url=lambda: app[NODES].url,  # the port is known once the node listens
        node_id=app[NODE_ID],
        node_alive=lambda node_id: _alive(app[NODES], node_id),
        bucket=S3Bucket(s3_config(settings.recording), http) if http is not None else None,
        sales=app[SALES],
        idempotency_ttl_s=settings.commerce.idempotency_ttl_s,
    )
    app[RECORDINGS] = recordings
    await recordings.start()
    yield
    await recordings.stop()
    if http is not None:
        await http.close()


async def _media(app: web.Application) -> AsyncIterator[None]:
    """The media plane; closed before the store so going offline is still recorded."""
    settings = app[SETTINGS]
    if settings.media.loopback_candidates:
        aiortc_patches.include_loopback_candidates()
    aiortc_patches.configure_ice(settings.media.public_ip or None, settings.media.udp_ports)
    raise_open_files_limit()
    streams = LiveService(
        app[ROOMS],
        app[BUS],
        settings.media,
        viewer_token_required=settings.auth.viewer_token_required,
        whep_client=AiohttpWhepClient(node_signer(app[SIGNING_SECRET], app[NODE_ID])),
        node_id=app[NODE_ID],
        nodes=app[NODES],
        recordings=app[RECORDINGS],
    )
    app[LIVE] = streams
    streams.start()
    yield
    await streams.close()


def create_app(settings: Settings) -> web.Application:
    """The HTTP application for one node; ``settings.store.url`` must name the store.

    Raises :class:`~media.aiortc_patches.UnsupportedVersionError` under other aiortc or
    aioice versions than the media plane was written for, before anything starts.
    """
    if not settings.store.url:
        raise ValueError(
            "create_app needs store.url; `livecommerce serve` starts an embedded store"
        )
    aiortc_patches.install()
    node_metrics = Metrics()
    cross_origin = cors.CrossOrigin.from_settings(settings)
    app = web.Application(
        middlewares=[
            http_metrics(node_metrics.http),
            cors.middleware(cross_origin),
            json_errors,
            body_limit,
        ],
        client_max_size=settings.server.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[cors.CROSS_ORIGIN] = cross_origin
    add_headers(app, settings.server)
    secret = resolve_secret(settings.auth.secret, settings.store.data_dir)
    if secret.generated:
        log.warning(
            "generated a new token signing secret in %s (set auth.secret to use your own)",
            secret.source,
        )
    app[SIGNING_SECRET] = secret.value
    app[NODE_ID] = secrets.token_hex(6)
    app[TRUSTED_PROXIES] = TrustedProxies(settings.server.trusted_proxies)
    app[METRICS] = node_metrics
    app.cleanup_ctx.append(_store)
    app.cleanup_ctx.append(_nodes)
    app.cleanup_ctx.append(_recording)
    app.cleanup_ctx.append(_media)
    app.cleanup_ctx.append(_analytics)
    app.cleanup_ctx.append(_channel)
    app.cleanup_ctx.append(_commerce)
    app.cleanup_ctx.append(formats_app.formats_context)
    app.cleanup_ctx.append(_hooks)
    app.cleanup_ctx.append(_rooms)
    app.on_shutdown.append(_hand_over)
    app.on_shutdown.append(_close_channels)
    health.add_routes(app)
    metrics.add_routes(app)
    rooms.add_routes(app)
    whip.add_routes(app)
    whep.add_routes(app)
    channel.add_routes(app)
    review.add_routes(app)
    moderation.add_routes(app)
    nodes.add_routes(app)
    commerce.add_routes(app)
    orders.add_routes(app)
    formats.add_routes(app)
    demo.add_routes(app)
    pages.add_routes(app)
    analytics.add_routes(app)
    product_images.add_routes(app)
    replays.add_routes(app)
    hls.add_routes(app)
    api_docs.add_routes(app)
    return app
