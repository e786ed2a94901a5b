"""Bad input on HTTP gets a 4xx with a JSON error, never a 500 with a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from livecommerce.auth import Role
from tests.bad_inputs import BadBody, bodies
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import room_with_sale
from tests.security.http_site import Route, routes, site

__all__ = ["site"]

JSON = {"Content-Type": "application/json"}
# Bodies every JSON endpoint must refuse with a 400 (or a 415 for the wrong type): the
# hand-made ones of tests/data/http/bad_bodies.txt, and two built to exhaust a parser.
BAD_BODIES = [
    *bodies("bad_bodies.txt"),
    BadBody(
        content_type="application/json",
        body=b'{"sku": "S", "title": "T", "currency": "EUR", "price_cents": ' + b"9" * 5000 + b"}",
        message="digits",
        what="a 5,000-digit integer",
    ),
    BadBody(
        content_type="application/json",
        body=b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        message="nested",
        what="100k-deep arrays",
    ),
]
INVALID_JSON = [b for b in BAD_BODIES if b.message is not None]
# Values for path parameters: each must be told apart from a real id without a 500.
GARBAGE_SEGMENTS = [
    "%00",
    "%C2%B2",  # ²
    "%D9%A3-%D9%A3",  # ٣-٣: digits of another script
    "%ED%A0%80",  # a surrogate encoded in UTF-8
    "a" * 300,
    "..%2F..%2Fetc%2Fpasswd",
    "1-0%0A",
]
GARBAGE_QUERY = (
    "?limit=%C2%B2&status=%00&date=%D9%A2%D9%A0%D9%A2%D9%A4-%D9%A0%D9%A1-%D9%A0%D9%A1"
    "&format=%ED%A0%80&resume=%D9%A1-%D9%A0"
)


async def send(
    site: Cluster,
    method: str,
    path: str,
    token: str | None = None,
    body: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = content_type
    async with site.http.request(
        method, site.urls[0] + path, data=body, headers=headers
    ) as response:
        text = await response.text()
        if method == "HEAD" or response.status < 400:
            return response.status, text
        assert response.content_type == "application/json", (method, path, response.status, text)
        return response.status, await response.json()


def assert_client_error(status: int, body: Any, what: object) -> None:
    assert 400 <= status < 500, (what, status, body)
    assert isinstance(body["error"]["code"], str), what
    assert body["error"]["message"], what


@pytest.mark.parametrize("bad", INVALID_JSON, ids=[b.what for b in INVALID_JSON])
async def test_a_json_body_that_no_store_or_client_can_take_is_a_400(
    site: Cluster, bad: BadBody
) -> None:
    room, _ = await room_with_sale(site)
    for path in ("/api/rooms", f"/api/rooms/{room}/products"):
        status, answer = await send(site, "POST", path, site.token("anchor", "alice"), bad.body)
        assert (status, answer["error"]["code"]) == (400, "invalid_json"), answer
        assert bad.message is not None
        assert bad.message in answer["error"]["message"]


async def test_a_valid_surrogate_pair_is_still_fine(site: Cluster) -> None:
    body = b'{"title": "Tea \\ud83c\\udf75"}'
    status, answer = await send(site, "POST", "/api/rooms", site.token("anchor", "alice"), body)
    assert status == 201, answer


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A3", "+5", "-1", " 5", "5%0A", "1" * 40, ""])
async def test_a_limit_that_is_not_ascii_digits_is_a_400(site: Cluster, limit: str) -> None:
    room = await site.room()
    moderator = site.token("moderator", "mia")
    for path, token in [
        (f"/api/rooms?limit={limit}", None),
        (f"/api/rooms/{room}/moderation/log?limit={limit}", moderator),
    ]:
        status, answer = await send(site, "GET", path, token)
        assert (status, answer["error"]["code"]) == (400, "invalid_parameter"), (path, answer)
    status, answer = await send(site, "GET", f"/api/rooms/{room}/moderation/log?limit=5", moderator)
    assert status == 200


@pytest.mark.parametrize(
    "path", ["a%00.svg", "js/%00/x.js", "a" * 300 + ".svg", "x/" * 2000 + "a.svg", "%0A.svg"]
)
async def test_a_static_path_the_file_system_refuses_is_a_404(site: Cluster, path: str) -> None:
    status, answer = await send(site, "GET", f"/static/{path}")
    assert (status, answer["error"]["code"]) == (404, "not_found")
    assert (await send(site, "GET", "/static/icon.svg"))[0] == 200


async def test_a_message_id_of_other_digits_is_not_a_message(site: Cluster) -> None:
    room = await site.room()
    for message in ("%D9%A1-%D9%A0", "1-0%0A", "%C2%B2-0"):
        status, answer = await send(
            site, "DELETE", f"/api/rooms/{room}/messages/{message}", site.token("moderator", "m")
        )
        assert (status, answer["error"]["code"]) == (404, "message_not_found"), answer


async def test_a_day_of_other_digits_is_a_400(site: Cluster) -> None:
    day = "%D9%A2%D9%A0%D9%A2%D9%A4-%D9%A0%D9%A1-%D9%A0%D9%A1"
    status, answer = await send(site, "GET", f"/api/stats/dab?date={day}", site.token("admin", "a"))
    assert (status, answer["error"]["code"]) == (400, "invalid_parameter")


def token_for(site: Cluster, route: Route) -> str | None:
    """A token the route admits, as strong as it gets: the room's anchor, else staff."""
    for role, user in ((Role.anchor, "alice"), (Role.admin, "root"), (Role.backend, "shop")):
        if role in route.roles:
            return site.token(role, user)
    return site.token(sorted(route.roles)[0], "someone")


async def test_garbage_on_every_route_is_answered_with_a_json_4xx(site: Cluster) -> None:
    room, open_sale = await room_with_sale(site)
    real = {"room": room, "sale": open_sale["id"], "product": open_sale["product_id"]}
    swept = 0
    for route in routes(site.apps[0]):
        token = token_for(site, route)
        requests: list[tuple[str, bytes | None, str]] = []
        for name in route.parameters:
            for segment in GARBAGE_SEGMENTS:
                requests.append((route.path(**{**real, name: segment}), None, "application/json"))
        requests.append((route.path(**real) + GARBAGE_QUERY, None, "application/json"))
        if route.method in ("POST", "PATCH", "PUT", "DELETE"):
            for bad in BAD_BODIES:
                requests.append((route.path(**real), bad.body, bad.content_type))
        for path, body, content_type in requests:
            status, answer = await send(site, route.method, path, token, body, content_type)
            assert status < 500, (str(route), path, body and body[:40], status, answer)
            if status >= 400 and route.method != "HEAD":
                assert_client_error(status, answer, (str(route), path, body and body[:40]))
            swept += 1
    assert swept > 300
