"""Typed keys for what the app and each request carry."""

from __future__ import annotations

from aiohttp import web

from livecommerce.auth import Principal
from livecommerce.bus import StoreRoomBus
from livecommerce.config import Settings
from livecommerce.rooms.service import RoomService
from livecommerce.store.client import StoreClient
from livecommerce.streams.service import StreamService

SETTINGS = web.AppKey("settings", Settings)
SIGNING_SECRET = web.AppKey("signing_secret", str)
STORE = web.AppKey("store", StoreClient)
BUS = web.AppKey("bus", StoreRoomBus)
ROOMS = web.AppKey("rooms", RoomService)
STREAMS = web.AppKey("streams", StreamService)

PRINCIPAL = web.RequestKey("principal", Principal)
