"""Response headers: a Content-Security-Policy (the pages' own, configurable framing),
nosniff and Referrer-Policy on every response, no versions in ``Server``; image URLs a
page shows are http(s) or this site's paths, never protocol-relative."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.config import ConfigError
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.pages import viewer_directory
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.cluster import Cluster
from tests.security.http_site import routes, site

__all__ = ["site"]

VERSION = re.compile(r"[0-9]+\.[0-9]+|python|aiohttp", re.I)


def assert_common_headers(headers: object, what: object) -> None:
    from multidict import CIMultiDictProxy

    assert isinstance(headers, CIMultiDictProxy)
    assert headers.get("Server") == "livecommerce", (what, headers.get("Server"))
    assert not VERSION.search(headers.get("Server", "")), what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "no-referrer", what
    assert "Content-Security-Policy" in headers, what


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


async def test_every_route_answers_with_the_common_headers(site: Cluster) -> None:
    room = await site.room()
    seen = 0
    for route in routes(site.apps[0]):
        path = route.path(room=room)
        async with site.http.request(route.method, site.urls[0] + path) as response:
            assert_common_headers(response.headers, (str(route), response.status))
            seen += 1
    for method, path in [("GET", "/nowhere"), ("PUT", "/api/rooms"), ("GET", "/static/nope.js")]:
        async with site.http.request(method, site.urls[0] + path) as response:
            assert response.status in (404, 405)
            assert_common_headers(response.headers, path)
            assert directives(response.headers["Content-Security-Policy"])["default-src"] == [
                "'none'"
            ]
    assert seen > 40


async def test_a_websocket_upgrade_carries_the_common_headers(site: Cluster) -> None:
    room = await site.room()
    async with site.http.ws_connect(f"{site.urls[0]}/ws/rooms/{room}?format=json") as ws:
        assert_common_headers(ws._response.headers, "ws")


async def test_pages_allow_this_node_only_and_frames_from_this_site(site: Cluster) -> None:
    room = await site.room()
    for path in ("/", f"/rooms/{room}"):
        async with site.http.get(site.urls[0] + path) as response:
            assert response.status == 200
            policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


async def test_framing_and_other_nodes_are_configurable(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> None:
    server = {
        "frame_ancestors": ["'self'", "https://shop.example"],
        "connect_origins": ["https://node2.example:8443"],
    }
    settings = make_settings(valkey.url, tmp_path, key_prefix, server=server)
    client: TestClient = await aiohttp_client(create_app(settings))
    response = await client.get("/")
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'self'", "https://shop.example"]
    assert policy["connect-src"] == ["'self'", "https://node2.example:8443"]


@pytest.mark.parametrize(
    "sources",
    [["'self'; script-src *"], ["'unsafe-inline'"], [], ["'none'", "https:"], ["https://a b"]],
)
def test_a_frame_ancestors_setting_that_is_not_a_source_list_stops_start_up(
    valkey: EmbeddedValkey, tmp_path: Path, sources: list[str]
) -> None:
    with pytest.raises(ConfigError, match=r"^server\.frame_ancestors: "):
        make_settings(valkey.url, tmp_path, "lc:x:", server={"frame_ancestors": sources})


def test_the_pages_need_nothing_the_policy_forbids() -> None:
    """No inline script, style or event handler in the viewer's pages."""
    for page in sorted(viewer_directory().glob("*.html")):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", html, re.I), page
    for script in sorted((viewer_directory() / "js").glob("*.js")):
        code = script.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|setAttribute\(\s*'style'", code), script


@pytest.mark.parametrize(
    "image_url",
    [
        "//evil.example/x.png",
        "/\\evil.example/x.png",
        "javascript:alert(1)",
        "data:image/svg+xml,<svg/>",
        "http://",
        "https:/evil.example",
        "ftp://files.example/x.png",
        "https://cdn.example/a b.png",
        "x.png",
    ],
)
async def test_a_product_image_url_is_http_or_a_site_path(
    site: Cluster, token: TokenFactory, image_url: str
) -> None:
    room = await site.room()
    body = {"sku": "S", "title": "T", "price_cents": 1, "currency": "EUR", "image_url": image_url}
    status, answer = await site.api(
        "POST", f"/api/rooms/{room}/products", token("anchor", "alice"), body
    )
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (
        400,
        "invalid_field",
        "image_url",
    )


@pytest.mark.parametrize("image_url", ["https://cdn.example/x.png", "/static/demo/cover.svg"])
async def test_good_image_urls_are_kept(site: Cluster, token: TokenFactory, image_url: str) -> None:
    room = await site.room()
    body = {"sku": "S", "title": "T", "price_cents": 1, "currency": "EUR", "image_url": image_url}
    status, answer = await site.api(
        "POST", f"/api/rooms/{room}/products", token("anchor", "alice"), body
    )
    assert (status, answer["image_url"]) == (201, image_url)
