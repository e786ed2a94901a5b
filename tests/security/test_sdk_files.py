"""``GET /sdk/{file}`` serves the SDK's own top-level files to any site and nothing else: no
test files, no hidden files, no other kinds, no way out of the directory."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.config import Settings
from tests.conftest import ClientFactory
from tests.security.test_page_headers import assert_common_headers

SERVED = {
    "livecommerce.js": "text/javascript; charset=utf-8",
    "room.js": "text/javascript; charset=utf-8",
    "element.js": "text/javascript; charset=utf-8",
    "livecommerce.d.ts": "application/typescript; charset=utf-8",
    "package.json": "application/json",
}
REFUSED = [
    "test",
    "test/room.test.js",
    "room.test.js",
    "fake_socket.js",
    "..%2fviewer%2fjs%2froom.js",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "%00livecommerce.js",
    "livecommerce.js%00",
    "livecommerce.js.map",
    "x" * 5000,
]


async def test_sdk_files_are_served_to_any_site_with_their_types(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client: TestClient = await aiohttp_client(create_app(settings))
    for name, content_type in SERVED.items():
        response = await client.get(f"/sdk/{name}", headers={"Origin": "https://any.example"})
        assert response.status == 200, name
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "max-age" in response.headers["Cache-Control"]
        assert_common_headers(response.headers, name)
        assert len(await response.read()) > 100


async def test_nothing_else_is_served(aiohttp_client: ClientFactory, settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(settings))
    for name in REFUSED:
        response = await client.get(f"/sdk/{name}")
        assert response.status == 404, name
        assert (await response.json())["error"]["code"] == "not_found"
