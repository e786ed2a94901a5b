"""CORS (issue 17, item 2): ``/api`` answers only the sites of ``server.cors_origins``
(none by default), preflights included; WHIP/WHEP keep ``media.cors_origins`` (``*``)
and add those sites; look-alike origins, other schemes, ports and ``null`` get nothing;
the pages' ``frame-ancestors`` follows the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.config import ConfigError
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.security.test_page_headers import directives

SHOP = "https://shop.example"
ATTACKERS = [
    "https://evil.example",
    "https://shop.example.evil.example",
    "https://evilshop.example",
    "http://shop.example",
    "https://shop.example:8443",
    "null",
    "https://evil.example/https://shop.example",
    "https://shop.example@evil.example",
    "",
]
ACAO = "Access-Control-Allow-Origin"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


@pytest.fixture
def node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> Any:
    async def start(**sections: dict[str, Any]) -> TestClient:
        settings = make_settings(valkey.url, tmp_path, key_prefix, **sections)
        return await aiohttp_client(create_app(settings))

    return start


async def test_by_default_no_other_site_may_call_the_api(node: Any) -> None:
    client: TestClient = await node()
    for origin in [SHOP, *ATTACKERS]:
        response = await client.options("/api/rooms", headers=preflight(origin))
        assert response.status == 403, origin
        assert (await response.json())["error"]["code"] == "origin_not_allowed"
        assert ACAO not in response.headers
        response = await client.get("/api/rooms", headers={"Origin": origin})
        assert response.status == 200
        assert ACAO not in response.headers


async def test_a_listed_site_gets_preflight_and_answers_errors_included(
    node: Any, token: TokenFactory
) -> None:
    client: TestClient = await node(server={"cors_origins": [SHOP]})
    asked = [("/api/rooms", "POST"), ("/api/rooms/x1/products", "GET"), ("/api/no", "PUT")]
    for path, method in asked:
        response = await client.options(path, headers=preflight(SHOP, method))
        assert response.status == 204, path
        assert response.headers[ACAO] == SHOP
        assert "Origin" in response.headers.getall("Vary")
        assert method in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed
        assert "content-type" in allowed
        assert int(response.headers["Access-Control-Max-Age"]) > 0
    anchor = {"Origin": SHOP, "Authorization": f"Bearer {token('anchor', 'alice')}"}
    response = await client.post("/api/rooms", json={"title": "Shop live"}, headers=anchor)
    assert response.status == 201
    assert response.headers[ACAO] == SHOP
    response = await client.post("/api/rooms", json={"title": "x"}, headers={"Origin": SHOP})
    assert response.status == 401
    assert response.headers[ACAO] == SHOP
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


async def test_look_alike_origins_get_nothing(node: Any) -> None:
    client: TestClient = await node(server={"cors_origins": [SHOP]})
    for origin in ATTACKERS:
        response = await client.options("/api/rooms", headers=preflight(origin))
        assert response.status == 403, origin
        assert ACAO not in response.headers
        response = await client.get("/api/rooms", headers={"Origin": origin})
        assert ACAO not in response.headers, origin


async def test_any_site_when_the_setting_is_a_star(node: Any) -> None:
    client: TestClient = await node(server={"cors_origins": ["*"]})
    response = await client.options("/api/rooms", headers=preflight("https://anyone.example"))
    assert response.status == 204
    assert response.headers[ACAO] == "*"
    response = await client.get("/api/rooms", headers={"Origin": "https://anyone.example"})
    assert response.headers[ACAO] == "*"


async def test_this_nodes_own_pages_need_no_setting(node: Any, token: TokenFactory) -> None:
    client: TestClient = await node()
    own = f"http://{client.host}:{client.port}"
    headers = {"Origin": own, "Authorization": f"Bearer {token('anchor', 'alice')}"}
    response = await client.post("/api/rooms", json={"title": "Own page"}, headers=headers)
    assert response.status == 201
    assert ACAO not in response.headers


async def test_whip_and_whep_keep_their_own_list_and_add_the_sites(node: Any) -> None:
    client: TestClient = await node()
    response = await client.options("/whep/x1", headers=preflight("https://anyone.example"))
    assert response.status == 204
    assert response.headers[ACAO] == "*"
    client = await node(
        server={"cors_origins": [SHOP]}, media={"cors_origins": ["https://player.example"]}
    )
    for path in ("/whep/x1", "/whip/x1", "/whep/x1/s1"):
        for origin in (SHOP, "https://player.example"):
            response = await client.options(path, headers=preflight(origin))
            assert response.headers[ACAO] == origin, (path, origin)
            assert "Location" in response.headers["Access-Control-Expose-Headers"]
        for origin in ATTACKERS:
            response = await client.options(path, headers=preflight(origin))
            assert ACAO not in response.headers, (path, origin)
    # media.cors_origins is for WHIP/WHEP only: it opens neither /api nor the pages.
    response = await client.options("/api/rooms", headers=preflight("https://player.example"))
    assert response.status == 403
    response = await client.post("/whep/x1", data="v=0", headers={"Origin": SHOP})
    assert response.status >= 400
    assert response.headers[ACAO] == SHOP


async def test_frame_ancestors_follow_the_sites(node: Any) -> None:
    client: TestClient = await node(server={"cors_origins": [SHOP]})
    policy = directives((await client.get("/")).headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'self'", SHOP]
    client = await node(server={"cors_origins": [SHOP], "frame_ancestors": ["'none'"]})
    policy = directives((await client.get("/")).headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    "origins",
    [["*", SHOP], ["shop.example"], ["https://shop.example/path"], ["wss://shop.example"], [""]],
)
def test_a_cors_origins_setting_that_is_not_origins_stops_start_up(
    valkey: EmbeddedValkey, tmp_path: Path, origins: list[str]
) -> None:
    with pytest.raises(ConfigError, match=r"^server\.cors_origins: "):
        make_settings(valkey.url, tmp_path, "lc:x:", server={"cors_origins": origins})
