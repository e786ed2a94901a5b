"""Typed keys for what the app and each request carry."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from livecommerce.analytics.service import Analytics
from livecommerce.auth import Principal
from livecommerce.bus import StoreRoomBus
from livecommerce.channel.chat import ChatService
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.likes import LikeCounter
from livecommerce.channel.presence import Presence
from livecommerce.commerce.catalog import Catalog
from livecommerce.commerce.orders import OrderService
from livecommerce.commerce.sales import SaleService
from livecommerce.commerce.stats import Stats
from livecommerce.config import Settings
from livecommerce.context import StoreContext
from livecommerce.hooks.dispatcher import HookDispatcher
from livecommerce.live.service import LiveService
from livecommerce.metrics import Metrics
from livecommerce.moderation.automod_service import AutomodService
from livecommerce.moderation.review import ReviewService
from livecommerce.moderation.service import ModerationService
from livecommerce.nodes.registry import NodeRegistry
from livecommerce.replays.service import RecordingService
from livecommerce.rooms.discovery import Discovery
from livecommerce.rooms.service import RoomService
from livecommerce.store.client import StoreClient
from livecommerce.web.rate import KeyedBuckets

SETTINGS = web.AppKey("settings", Settings)
SIGNING_SECRET = web.AppKey("signing_secret", str)
STORE = web.AppKey[StoreClient]("store")
BUS = web.AppKey("bus", StoreRoomBus)
ROOMS = web.AppKey("rooms", RoomService)
DISCOVERY = web.AppKey("discovery", Discovery)
NODE_ID = web.AppKey("node_id", str)
NODES = web.AppKey("nodes", NodeRegistry)
# HTTP client for requests this node passes to another node (media session routing).
NODE_HTTP = web.AppKey("node_http", aiohttp.ClientSession)
CHAT = web.AppKey("chat", ChatService)
LIKES = web.AppKey("likes", LikeCounter)
HUB = web.AppKey("hub", ChannelHub)
PRESENCE = web.AppKey("presence", Presence)
MODERATION = web.AppKey("moderation", ModerationService)
AUTOMOD = web.AppKey("automod", AutomodService)
REVIEW = web.AppKey("review", ReviewService)
CATALOG = web.AppKey("catalog", Catalog)
SALES = web.AppKey("sales", SaleService)
ORDERS = web.AppKey("orders", OrderService)
STATS = web.AppKey("stats", Stats)
HOOKS = web.AppKey("hooks", HookDispatcher)
LIVE = web.AppKey("live", LiveService)
DEMO_LIMITER = web.AppKey("demo_limiter", KeyedBuckets)
VIEWER_ROOT = web.AppKey("viewer_root", Path)
METRICS = web.AppKey("metrics", Metrics)
ANALYTICS = web.AppKey("analytics", Analytics)
# The store as every service of this node shares it (built once, by app.py's _store).
STORE_CONTEXT = web.AppKey("store_context", StoreContext)
RECORDINGS = web.AppKey("recordings", RecordingService)

PRINCIPAL = web.RequestKey("principal", Principal)
