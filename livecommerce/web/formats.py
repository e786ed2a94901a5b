"""Vouchers, auctions and giveaways of a room over REST (see docs/formats.md)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.commerce.auctions import AuctionTerms
from livecommerce.commerce.giveaways import GiveawayTerms, room_of_giveaway
from livecommerce.commerce.models import now_ms
from livecommerce.commerce.vouchers import VoucherTerms
from livecommerce.config_values import increment_table
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import (
    RoomFrom,
    admits,
    admits_anyone,
    caller,
    require_room_authority,
    require_room_scope,
)
from livecommerce.web.body import (
    optional_int,
    read_json_object,
    reject_unknown,
    required_int,
    text_field,
)
from livecommerce.web.commerce import MAX_PRICE_CENTS, own_open_room
from livecommerce.web.formats_app import AUCTIONS, GIVEAWAYS, VOUCHERS
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import CATALOG, ROOMS, SETTINGS

MAX_EXPIRY_AHEAD_MS = 365 * 86_400_000
MAX_WATCH_S = 86_400
MAX_KEYWORD_CHARS = 40


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(
            ErrorCode.invalid_field, f"Field {name!r} must be true or false.", field=name
        )
    return value


# Vouchers


@admits(Role.anchor)
async def create_voucher(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    limits = request.app[SETTINGS].formats
    body = await read_json_object(request)
    reject_unknown(
        body,
        {
            "title",
            "discount_cents",
            "percent_off",
            "quantity",
            "per_user_limit",
            "min_spend_cents",
            "watch_s_required",
            "expires_at",
            "drop",
        },
    )
    title = text_field(body, "title", max_chars=120, required=True)
    discount = optional_int(body, "discount_cents", 1, MAX_PRICE_CENTS)
    percent = optional_int(body, "percent_off", 1, 100)
    if (discount is None) == (percent is None):
        raise ApiError(
            ErrorCode.invalid_field,
            "A voucher takes exactly one of 'discount_cents' and 'percent_off'.",
            field="discount_cents",
        )
    quantity = required_int(body, "quantity", 1, limits.max_voucher_quantity)
    now = now_ms()
    terms = VoucherTerms(
        title=title,
        discount_cents=discount or 0,
        percent_off=percent or 0,
        quantity=quantity,
        per_user_limit=required_int(body, "per_user_limit", 1, quantity),
        min_spend_cents=optional_int(body, "min_spend_cents", 0, MAX_PRICE_CENTS) or 0,
        watch_s_required=optional_int(body, "watch_s_required", 0, MAX_WATCH_S) or 0,
        expires_at=optional_int(body, "expires_at", now + 1000, now + MAX_EXPIRY_AHEAD_MS) or 0,
    )
    drop = _flag(body, "drop") if "drop" in body else True
    voucher = await request.app[VOUCHERS].create(room.id, terms, drop=drop)
    location = f"/api/rooms/{room.id}/vouchers/{voucher.id}"
    return web.json_response(voucher.to_json(), status=201, headers={"Location": location})


@admits_anyone
async def list_vouchers(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    vouchers = await request.app[VOUCHERS].recent(room.id)
    pinned = await request.app[VOUCHERS].pinned(room.id)
    return web.json_response(
        {"room": room.id, "pinned": pinned, "vouchers": [v.to_json() for v in vouchers]}
    )


@admits_anyone
async def get_voucher(request: web.Request) -> web.Response:
    voucher = await request.app[VOUCHERS].get(room_id_of(request), request.match_info["voucher"])
    return web.json_response(voucher.to_json())


@admits(Role.anchor)
async def drop_voucher(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    voucher = await request.app[VOUCHERS].change(room.id, request.match_info["voucher"], "drop")
    return web.json_response(voucher.to_json())


@admits(Role.anchor)
async def pin_voucher(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    voucher = await request.app[VOUCHERS].pin(room.id, request.match_info["voucher"])
    return web.json_response(voucher.to_json())


@admits(Role.anchor, Role.moderator)
async def end_voucher(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator)
    voucher = await request.app[VOUCHERS].change(room.id, request.match_info["voucher"], "end")
    return web.json_response(voucher.to_json())


@admits(Role.viewer, Role.anchor, Role.moderator, Role.admin)
async def my_claims(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    claims = await request.app[VOUCHERS].claims_of(room.id, caller(request).user)
    return web.json_response({"room": room.id, "claims": claims})


# Auctions


@admits(Role.anchor)
async def create_auction(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    limits = request.app[SETTINGS].formats
    body = await read_json_object(request)
    reject_unknown(
        body,
        {
            "product_id",
            "start_price_cents",
            "reserve_price_cents",
            "duration_s",
            "increment_table",
            "anti_snipe_s",
            "sudden_death",
        },
    )
    product_id = text_field(body, "product_id", max_chars=64, required=True)
    start = required_int(body, "start_price_cents", 1, MAX_PRICE_CENTS)
    reserve = optional_int(body, "reserve_price_cents", 0, MAX_PRICE_CENTS) or 0
    duration = required_int(body, "duration_s", 1, limits.max_auction_duration_s)
    increments = limits.auction_increments
    if body.get("increment_table") is not None:
        try:
            increments = increment_table(body["increment_table"])
        except ValueError as error:
            raise ApiError(
                ErrorCode.invalid_field,
                f"Field 'increment_table' {error}.",
                field="increment_table",
            ) from None
    sudden_death = _flag(body, "sudden_death")
    anti_snipe = optional_int(body, "anti_snipe_s", 0, limits.max_anti_snipe_s)
    if sudden_death and anti_snipe:
        raise ApiError(
            ErrorCode.invalid_field,
            "A sudden-death auction ends exactly on time: leave 'anti_snipe_s' out or 0.",
            field="anti_snipe_s",
        )
    product = await request.app[CATALOG].get(room.id, product_id)
    terms = AuctionTerms(
        product=product,
        start_price_cents=start,
        reserve_cents=reserve,
        duration_s=duration,
        increments=increments,
        anti_snipe_s=0 if sudden_death else (15 if anti_snipe is None else anti_snipe),
        sudden_death=sudden_death,
    )
    auction = await request.app[AUCTIONS].create(room.id, terms)
    location = f"/api/rooms/{room.id}/auctions/{auction.id}"
    return web.json_response(auction.to_json(), status=201, headers={"Location": location})


@admits_anyone
async def list_auctions(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    auctions = await request.app[AUCTIONS].recent(room.id)
    return web.json_response({"room": room.id, "auctions": [a.to_json() for a in auctions]})


@admits_anyone
async def get_auction(request: web.Request) -> web.Response:
    auction = await request.app[AUCTIONS].get(room_id_of(request), request.match_info["auction"])
    return web.json_response(auction.to_json())


@admits(Role.anchor, Role.moderator)
async def end_auction(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    require_room_authority(caller(request), room, Role.moderator)
    auction = await request.app[AUCTIONS].end(room.id, request.match_info["auction"])
    return web.json_response(auction.to_json())


# Giveaways


@admits(Role.anchor)
async def create_giveaway(request: web.Request) -> web.Response:
    room = await own_open_room(request)
    limits = request.app[SETTINGS].formats
    body = await read_json_object(request)
    reject_unknown(body, {"title", "winners", "duration_s", "product_id", "eligibility"})
    title = text_field(body, "title", max_chars=120, required=True)
    winners = required_int(body, "winners", 1, limits.max_giveaway_winners)
    duration = required_int(body, "duration_s", 1, limits.max_giveaway_duration_s)
    product_id = text_field(body, "product_id", max_chars=64, required=False)
    eligibility = body.get("eligibility")
    if eligibility is None:
        eligibility = {}
    if not isinstance(eligibility, dict):
        raise ApiError(
            ErrorCode.invalid_field, "Field 'eligibility' must be an object.", field="eligibility"
        )
    reject_unknown(eligibility, {"watch_s", "buyers_only", "keyword"})
    currency = ""
    if product_id:
        currency = (await request.app[CATALOG].get(room.id, product_id)).currency
    terms = GiveawayTerms(
        title=title,
        winners=winners,
        duration_s=duration,
        product_id=product_id,
        currency=currency,
        watch_s=optional_int(eligibility, "watch_s", 0, MAX_WATCH_S) or 0,
        buyers_only=_flag(eligibility, "buyers_only"),
        keyword=text_field(eligibility, "keyword", max_chars=MAX_KEYWORD_CHARS, required=False),
    )
    giveaway = await request.app[GIVEAWAYS].create(room.id, terms)
    location = f"/api/giveaways/{giveaway.id}"
    return web.json_response(giveaway.to_json(), status=201, headers={"Location": location})


@admits_anyone
async def list_giveaways(request: web.Request) -> web.Response:
    room = await request.app[ROOMS].get(room_id_of(request))
    giveaways = await request.app[GIVEAWAYS].recent(room.id)
    return web.json_response({"room": room.id, "giveaways": [g.to_json() for g in giveaways]})


@admits_anyone
async def get_giveaway(request: web.Request) -> web.Response:
    giveaway = await request.app[GIVEAWAYS].get(request.match_info["giveaway"])
    return web.json_response(giveaway.to_json())


@admits_anyone
async def giveaway_entrants(request: web.Request) -> web.Response:
    giveaway = await request.app[GIVEAWAYS].get(request.match_info["giveaway"])
    entrants = await request.app[GIVEAWAYS].entrants(giveaway)
    return web.json_response(
        {"giveaway": giveaway.id, "count": len(entrants), "entrants": entrants}
    )


@admits(Role.anchor, Role.moderator, room_from=RoomFrom.handler)
async def end_giveaway(request: web.Request) -> web.Response:
    giveaway_id = request.match_info["giveaway"]
    room_id = room_of_giveaway(giveaway_id)
    if room_id is None:
        raise ApiError(ErrorCode.giveaway_not_found, f"No giveaway {giveaway_id!r}.")
    principal = caller(request)
    require_room_scope(principal, room_id)
    room = await request.app[ROOMS].get(room_id)
    require_room_authority(principal, room, Role.moderator)
    giveaway = await request.app[GIVEAWAYS].end(giveaway_id)
    return web.json_response(giveaway.to_json())


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_post("/api/rooms/{room}/vouchers", create_voucher)
    router.add_get("/api/rooms/{room}/vouchers", list_vouchers)
    router.add_get("/api/rooms/{room}/vouchers/{voucher}", get_voucher)
    router.add_post("/api/rooms/{room}/vouchers/{voucher}/drop", drop_voucher)
    router.add_post("/api/rooms/{room}/vouchers/{voucher}/pin", pin_voucher)
    router.add_post("/api/rooms/{room}/vouchers/{voucher}/end", end_voucher)
    router.add_get("/api/rooms/{room}/claims", my_claims)
    router.add_post("/api/rooms/{room}/auctions", create_auction)
    router.add_get("/api/rooms/{room}/auctions", list_auctions)
    router.add_get("/api/rooms/{room}/auctions/{auction}", get_auction)
    router.add_post("/api/rooms/{room}/auctions/{auction}/end", end_auction)
    router.add_post("/api/rooms/{room}/giveaways", create_giveaway)
    router.add_get("/api/rooms/{room}/giveaways", list_giveaways)
    router.add_get("/api/giveaways/{giveaway}", get_giveaway)
    router.add_get("/api/giveaways/{giveaway}/entrants", giveaway_entrants)
    router.add_post("/api/giveaways/{giveaway}/end", end_giveaway)
