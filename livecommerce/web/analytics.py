"""Seller analytics over HTTP and the channel: impressions from the home page, product
views (``view_product`` frames), the room's report as JSON and CSV, and the studio
dashboard page ``/studio/rooms/{room}``.

Impressions may be anonymous: each client address has a token bucket
(``analytics.impressions_burst`` / ``impressions_per_s``), and only a room that exists
and has not ended is counted. ``view_product`` frames have a bucket per socket
(``analytics.views_burst`` / ``views_per_s``).
"""

from __future__ import annotations

import datetime
import re
import weakref
from typing import Any

from aiohttp import web

from livecommerce.analytics.export import report_csv
from livecommerce.auth import Principal, Role
from livecommerce.channel.frames.analytics import ViewProduct
from livecommerce.channel.session import ChannelSession
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import admits, admits_anyone, caller, require_room_authority
from livecommerce.web.body import read_json_object, reject_unknown
from livecommerce.web.client_address import client_address
from livecommerce.web.rate import KeyedBuckets, TokenBucket
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import ANALYTICS, PRINCIPAL, ROOMS, SETTINGS

# ASCII digits only (\d would take other scripts' digits).
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IMPRESSION_LIMITER = web.AppKey("impression_limiter", KeyedBuckets)
# One bucket per channel session, gone with the session.
_VIEW_BUCKETS: weakref.WeakKeyDictionary[ChannelSession, TokenBucket] = weakref.WeakKeyDictionary()


@admits_anyone
async def impression(request: web.Request) -> web.Response:
    """A room card was shown: ``{room, counted}``, counted once per call (``counted`` is
    false when analytics is off); a body, if any, is ``{}``."""
    room_id = room_id_of(request)
    settings = request.app[SETTINGS].analytics
    address = client_address(request)
    if settings.impressions_burst and not request.app[IMPRESSION_LIMITER].take(address):
        raise ApiError(
            ErrorCode.rate_limited,
            "Too many impressions from your address; slow down.",
            headers={"Retry-After": str(max(1, round(1 / settings.impressions_per_s)))},
        )
    reject_unknown(await read_json_object(request, allow_empty=True), set())
    principal = request.get(PRINCIPAL)
    user = principal.user if principal is not None else None
    await request.app[ANALYTICS].impression(room_id, user, address)
    return web.json_response({"room": room_id, "counted": settings.enabled})


@admits(Role.anchor, Role.moderator, Role.admin)
async def room_analytics(request: web.Request) -> web.Response:
    """The room's report (see docs/analytics.md)."""
    return web.json_response(await _report(request))


@admits(Role.anchor, Role.moderator, Role.admin)
async def room_analytics_csv(request: web.Request) -> web.Response:
    """The room's report as CSV."""
    report = await _report(request)
    return web.Response(
        text=report_csv(report),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{report["room"]}-analytics.csv"'},
    )


async def _report(request: web.Request) -> dict[str, Any]:
    """The room's report; for a room deleted by the retention sweep, its frozen report
    while kept, to the anchor it names, moderators and admins (as for a room that is)."""
    room_id = room_id_of(request)
    analytics = request.app[ANALYTICS]
    try:
        room = await request.app[ROOMS].get(room_id)
    except ApiError as error:
        if error.code is not ErrorCode.room_not_found:
            raise
        frozen = await analytics.frozen_report(room_id)
        if frozen is None:
            raise
        principal = caller(request)
        anchor = str(frozen.get("anchor") or "")
        staff = principal.role in (Role.moderator, Role.admin)
        if not staff and not (anchor and principal.may_act_on_room(room_id, anchor)):
            raise ApiError(
                ErrorCode.not_your_room, f"Only the anchor of room {room_id!r} may do this."
            ) from None
        return frozen
    require_room_authority(caller(request), room, Role.moderator, Role.admin)
    return await analytics.report(room.id)


async def view_product(
    request: web.Request,
    session: ChannelSession,
    principal: Principal | None,
    message: ViewProduct,
) -> None:
    """Count a ``view_product`` frame (anonymous viewers too); an error frame for a
    product the room does not have, or past the socket's rate."""
    settings = request.app[SETTINGS].analytics
    bucket = _VIEW_BUCKETS.get(session)
    if bucket is None:
        bucket = _VIEW_BUCKETS[session] = TokenBucket(settings.views_burst, settings.views_per_s)
    if not bucket.take():
        raise ApiError(ErrorCode.rate_limited, "Too many product views; slow down.")
    user = principal.user if principal is not None else None
    await request.app[ANALYTICS].viewed(
        session.room_id, user, client_address(request), message.product
    )


async def daily_active_buyers_range(request: web.Request) -> web.Response:
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (UTC days, both included; ``to`` defaults to
    today, ``from`` to ``to``) → ``{from, to, days: [{date, daily_active_buyers}]}``.
    Called by ``GET /api/stats/dab`` (admin) when either is given."""
    today = datetime.datetime.now(datetime.UTC).date()
    last = _day(request, "to", today)
    first = _day(request, "from", last)
    days = await request.app[ANALYTICS].daily_active_buyers(first, last)
    return web.json_response({"from": first.isoformat(), "to": last.isoformat(), "days": days})


def _day(request: web.Request, name: str, default: datetime.date) -> datetime.date:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not DAY.fullmatch(raw):
        raise ApiError(ErrorCode.invalid_parameter, f"{name} must be YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(ErrorCode.invalid_parameter, f"{raw} is not a calendar date.") from None


def add_routes(app: web.Application) -> None:
    settings = app[SETTINGS].analytics
    app[IMPRESSION_LIMITER] = KeyedBuckets(
        max(1, settings.impressions_burst), settings.impressions_per_s
    )
    app.router.add_post("/api/rooms/{room}/impressions", impression)
    app.router.add_get("/api/rooms/{room}/analytics", room_analytics)
    app.router.add_get("/api/rooms/{room}/analytics.csv", room_analytics_csv)
