"""Products, pinning and flash sales of a room."""

from __future__ import annotations

import re

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.commerce.models import now_ms
from livecommerce.commerce.sales import SaleTerms
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.rooms.models import Room, RoomStatus
from livecommerce.web.access import admits, admits_anyone, caller, require_room_authority
from livecommerce.web.body import (
    optional_int,
    read_json_object,
    reject_unknown,
    required_int,
    text_field,
    web_url_field,
)
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import ANALYTICS, CATALOG, ROOMS, SALES, SETTINGS

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_PRICE_CENTS = 100_000_000_00
MAX_START_AHEAD_MS = 30 * 86_400_000
MAX_IMAGE_URL_CHARS = 2000


async def own_open_room(request: web.Request) -> Room:
    """The room, if the caller is its anchor and it has not ended."""
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room)
    if room.status is RoomStatus.ended:
        raise ApiError(ErrorCode.room_ended)
    return room


@admits(Role.anchor)
async def add_product(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    body = await read_json_object(request)
    reject_unknown(body, {"sku", "title", "price_cents", "currency", "image_url"})
    sku = text_field(body, "sku", max_chars=64, required=True)
    title = text_field(body, "title", max_chars=200, required=True)
    price = required_int(body, "price_cents", 0, MAX_PRICE_CENTS)
    currency = text_field(body, "currency", max_chars=3, required=True)
    if not CURRENCY.match(currency):
        raise ApiError(
            ErrorCode.invalid_field,
            "Field 'currency' must be an ISO 4217 code like EUR.",
            field="currency",
        )
    image_url = web_url_field(body, "image_url", max_chars=MAX_IMAGE_URL_CHARS) or None
    product = await request.app[CATALOG].add(room.id, sku, title, price, currency, image_url)
    return web.json_response(product.to_json(), status=201)


@admits_anyone
async def list_products(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    products = await request.app[CATALOG].list(room.id)
    return web.json_response({"room": room.id, "products": [p.to_json() for p in products]})


@admits(Role.anchor)
async def pin_product(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    body = await read_json_object(request)
    reject_unknown(body, {"product_id"})
    product_id = text_field(body, "product_id", max_chars=64, required=True)
    product = await request.app[CATALOG].pin(room.id, product_id)
    await request.app[ANALYTICS].mark_pin(room.id, product.id)
    return web.json_response({"room": room.id, "pinned_product": product.to_json()})


@admits(Role.anchor)
async def create_sale(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    limits = request.app[SETTINGS].commerce
    body = await read_json_object(request)
    reject_unknown(
        body,
        {
            "product_id",
            "price_cents",
            "quantity",
            "per_user_limit",
            "duration_s",
            "reservation_ttl_s",
            "starts_at",
        },
    )
    product_id = text_field(body, "product_id", max_chars=64, required=True)
    price = required_int(body, "price_cents", 0, MAX_PRICE_CENTS)
    quantity = required_int(body, "quantity", 1, limits.max_quantity)
    per_user_limit = required_int(body, "per_user_limit", 1, limits.max_quantity)
    duration = required_int(body, "duration_s", 1, limits.max_sale_duration_s)
    ttl = required_int(body, "reservation_ttl_s", 1, limits.max_reservation_ttl_s)
    now = now_ms()
    starts_at = optional_int(body, "starts_at", now - 60_000, now + MAX_START_AHEAD_MS)
    product = await request.app[CATALOG].get(room.id, product_id)
    terms = SaleTerms(product, price, quantity, per_user_limit, duration, ttl, starts_at)
    sale = await request.app[SALES].create(room.id, terms)
    return web.json_response(
        sale.to_json(), status=201, headers={"Location": f"/api/rooms/{room.id}/sales/{sale.id}"}
    )


@admits_anyone
async def get_sale(request: web.Request) -> web.Response:
    room_id = room_id_of(request)
    sale = await request.app[SALES].get(room_id, request.match_info["sale"])
    return web.json_response(sale.to_json())


@admits(Role.anchor, Role.moderator)
async def stop_sale(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator)
    reject_unknown(await read_json_object(request, allow_empty=True), set())
    sale = await request.app[SALES].stop(room.id, request.match_info["sale"])
    return web.json_response(sale.to_json())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/rooms/{room}/products", add_product)
    app.router.add_get("/api/rooms/{room}/products", list_products)
    app.router.add_post("/api/rooms/{room}/pin", pin_product)
    app.router.add_post("/api/rooms/{room}/sales", create_sale)
    app.router.add_get("/api/rooms/{room}/sales/{sale}", get_sale)
    app.router.add_post("/api/rooms/{room}/sales/{sale}/stop", stop_sale)
