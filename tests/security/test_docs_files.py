"""``/docs`` serves the pages and renderers of ``clients/docs`` and nothing else: no way out
of the directory, no hidden files, no other kinds; its pages keep scripts to the node's
own files; the specs are public but a bad token sent to them is still refused."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.config import Settings
from tests.conftest import ClientFactory
from tests.security.test_page_headers import assert_common_headers

REFUSED = [
    "..%2fviewer%2froom.html",
    "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "vendor/%2e%2e/%2e%2e/viewer/room.html",
    "vendor/..%2f..%2f..%2fREADME.md",
    "%00index.html",
    "index.html%00",
    "vendor/VERSIONS",
    "vendor/redoc.LICENSE",
    "vendor/",
    ".hidden.js",
    "x" * 5000,
]


async def test_only_the_docs_files_are_served(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client: TestClient = await aiohttp_client(create_app(settings))
    for name in REFUSED:
        response = await client.get(f"/docs/{name}")
        assert response.status == 404, name
        assert (await response.json())["error"]["code"] == "not_found"
    for name in ("vendor/VERSIONS.txt", "vendor/redoc.LICENSE.txt", "docs.css", "http.js"):
        response = await client.get(f"/docs/{name}")
        assert response.status == 200, name
        assert_common_headers(response.headers, name)


async def test_the_docs_pages_run_only_the_nodes_own_scripts(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client: TestClient = await aiohttp_client(create_app(settings))
    for path in ("/docs", "/docs/channel.html"):
        response = await client.get(path)
        policy = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] in ("'self'", "'self' 'unsafe-eval'"), path
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["default-src"] == "'none'"
        assert "http" not in policy
        assert "<script>" not in await response.text()


async def test_a_bad_token_sent_to_the_specs_is_refused(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client: TestClient = await aiohttp_client(create_app(settings))
    for path in ("/openapi.json", "/asyncapi.json", "/docs"):
        response = await client.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert response.status == 401, path
        assert (await client.get(path)).status == 200
