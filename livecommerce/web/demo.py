"""``POST /api/demo/token``: a fresh viewer token for anyone, when ``auth.demo_tokens`` is on.

A newcomer opening a demo server's room page can chat and buy at once. The
user id is a sanitised name (or ``guest``) plus a random suffix, so two
newcomers never share one. Off by default: a real deployment issues tokens
from its own accounts.
"""

from __future__ import annotations

import re
import secrets
import time

from aiohttp import web

from livecommerce.auth import Role, issue_token
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import admits_anyone
from livecommerce.web.body import read_json_object, reject_unknown, text_field
from livecommerce.web.client_address import client_address
from livecommerce.web.rate import KeyedBuckets
from livecommerce.web.state import DEMO_LIMITER, SETTINGS, SIGNING_SECRET

# A day: long enough for a demo session, short enough that stray tokens soon die.
DEMO_TOKEN_TTL_S = 86_400
MAX_NAME_CHARS = 40
# Characters of the name kept in the user id (ids allow up to 128).
MAX_SLUG_CHARS = 24
# Per client address: a burst of 10 tokens, then one every 30 seconds.
DEMO_BURST = 10
DEMO_PER_S = 1 / 30
RETRY_AFTER_S = 30
NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def user_id_for(name: str) -> str:
    """``name-xxxxxx`` with only id-safe characters of the name, or ``guest-xxxxxx``."""
    slug = NOT_ID_CHARS.sub("-", name).strip("-_")[:MAX_SLUG_CHARS].strip("-_")
    return f"{slug or 'guest'}-{secrets.token_hex(3)}"


@admits_anyone
async def demo_token(request: web.Request) -> web.Response:
    """Optional ``{name}`` → 201 ``{token, user, role, expires_at}``; 404 when turned off."""
    if not request.app[SETTINGS].auth.demo_tokens:
        raise ApiError(ErrorCode.demo_disabled)
    if not request.app[DEMO_LIMITER].take(client_address(request)):
        raise ApiError(
            ErrorCode.rate_limited,
            "Too many demo tokens from your address; try again in a minute.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    body = await read_json_object(request, allow_empty=True)
    reject_unknown(body, {"name"})
    user = user_id_for(text_field(body, "name", max_chars=MAX_NAME_CHARS, required=False))
    now = int(time.time())
    token = issue_token(
        request.app[SIGNING_SECRET], Role.viewer, user, ttl_s=DEMO_TOKEN_TTL_S, now=now
    )
    return web.json_response(
        {
            "token": token,
            "user": user,
            "role": Role.viewer.value,
            "expires_at": (now + DEMO_TOKEN_TTL_S) * 1000,
        },
        status=201,
        headers={"Cache-Control": "no-store"},
    )


def add_routes(app: web.Application) -> None:
    app[DEMO_LIMITER] = KeyedBuckets(DEMO_BURST, DEMO_PER_S)
    app.router.add_post("/api/demo/token", demo_token)
