"""The viewer's pages and assets as the server sends them, and room covers."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from livecommerce.web.pages import viewer_directory
from tests.conftest import TokenFactory
from tests.integration.test_rooms_api import assert_error, bearer, create_room


async def test_the_home_and_room_pages_are_html_that_is_revalidated(
    client: TestClient, token: TokenFactory
) -> None:
    room = await create_room(client, token)
    pages = [("/", "/static/js/home.js"), (f"/rooms/{room['id']}", "/static/js/room.js")]
    for path, script in pages:
        response = await client.get(path)
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert f'src="{script}"' in await response.text()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/static/js/room.js", "text/javascript; charset=utf-8"),
        ("/static/js/player.js", "text/javascript; charset=utf-8"),
        ("/static/icon.svg", "image/svg+xml"),
    ],
)
async def test_assets_have_their_content_type_and_a_short_cache(
    client: TestClient, path: str, content_type: str
) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = await client.get(path, headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert again.status == 304


async def test_every_module_a_page_imports_is_served(client: TestClient) -> None:
    scripts = sorted((viewer_directory() / "js").glob("*.js"))
    assert {p.name for p in scripts} >= {"room.js", "home.js", "player.js", "channel.js"}
    for script in scripts:
        for line in script.read_text().splitlines():
            if line.startswith("import ") and " from './" in line:
                name = line.split(" from './")[1].split("'")[0]
                assert (await client.get(f"/static/js/{name}")).status == 200, name


@pytest.mark.parametrize(
    "path",
    [
        "/static/nothing.js",
        "/static/../../livecommerce/app.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/js%2F..%2F..%2Fanchor%2Fcli.py",
        "/static/js/..%2f..%2fanchor/cli.py",
        "/static/.hidden.css",
        "/static/index",
    ],
)
async def test_nothing_outside_the_viewer_files_is_served(client: TestClient, path: str) -> None:
    response = await client.get(URL(path, encoded=True))
    await assert_error(response, 404, "not_found")


async def test_a_room_page_with_a_malformed_id_is_not_found(client: TestClient) -> None:
    await assert_error(await client.get("/rooms/..%20x"), 404, "room_not_found")


def test_the_viewer_files_are_found_through_the_installed_clients_package() -> None:
    root = viewer_directory()
    assert root == Path(__file__).resolve().parents[2] / "clients" / "viewer"
    assert (root / "index.html").is_file()


async def test_a_room_keeps_its_cover_url(client: TestClient, token: TokenFactory) -> None:
    for cover in ["https://img.example.com/covers/tea.jpg?w=640", "/static/icon.svg"]:
        response = await client.post(
            "/api/rooms",
            json={"title": "With a cover", "cover_url": cover},
            headers=bearer(token("anchor", "alice")),
        )
        assert response.status == 201, await response.text()
        room = await response.json()
        assert room["cover_url"] == cover
        fetched = await (await client.get(f"/api/rooms/{room['id']}")).json()
        assert fetched["cover_url"] == cover
    plain = await create_room(client, token)
    assert plain["cover_url"] is None


@pytest.mark.parametrize(
    "cover",
    [
        "javascript:alert(1)",
        "//evil.example/x.png",
        "ftp://files.example/x.png",
        "http://",
        "https://[::1/x.png",
        "cover.png",
        "/a b.png",
        '/x".png',
        "https://img.example.com/" + "x" * 2100,
        42,
        ["https://img.example.com/a.png"],
    ],
)
async def test_a_bad_cover_url_is_refused(
    client: TestClient, token: TokenFactory, cover: object
) -> None:
    response = await client.post(
        "/api/rooms",
        json={"title": "Bad cover", "cover_url": cover},
        headers=bearer(token("anchor", "alice")),
    )
    body = await assert_error(response, 400, "invalid_field")
    assert body["error"]["field"] == "cover_url"
