"""``GET /openapi.json``, ``GET /asyncapi.json`` and ``/docs``, which renders both.

The documents are built once per app, on first request, from the app's own router and
the event registry (:mod:`livecommerce.web.openapi`, :mod:`livecommerce.web.asyncapi`).
``/docs`` serves ``clients/docs/``: two pages and the vendored renderers, looked up by
name in a list made at start-up (no path is ever joined from the URL).

The renderers need more than the other pages' policy, and only on these pages: Redoc
and the AsyncAPI component inject their styles as ``<style>`` elements
(``style-src 'unsafe-inline'``), Redoc runs its search index in a ``blob:`` worker, and
both draw icons from ``data:`` images. Scripts stay ``'self'`` only: nothing inline runs.
The channel's page alone also allows ``'unsafe-eval'``: the AsyncAPI parser compiles JSON
schemas into functions (Ajv). That page takes no token and shows only this node's public
document, and no script from elsewhere or inline may run on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import admits_anyone
from livecommerce.web.asyncapi import asyncapi_document
from livecommerce.web.headers import CSP
from livecommerce.web.openapi import openapi_document
from livecommerce.web.state import VIEWER_ROOT

DOCS_FILES = web.AppKey("docs_files", dict[str, Path])
DOCUMENTS = web.AppKey("api_documents", dict[str, bytes])
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'"
)
CHANNEL_DOCS_POLICY = DOCS_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'")
POLICIES = {"index.html": DOCS_POLICY, "channel.html": CHANNEL_DOCS_POLICY}
CACHE = "public, max-age=300"


def docs_files(root: Path) -> dict[str, Path]:
    """The servable files under ``root`` by their path relative to it."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".") and path.suffix in CONTENT_TYPES
    }


def _document(request: web.Request, name: str) -> bytes:
    cache = request.app[DOCUMENTS]
    if name not in cache:
        document: dict[str, Any] = (
            openapi_document(request.app) if name == "openapi" else asyncapi_document()
        )
        cache[name] = json.dumps(document, separators=(",", ":")).encode()
    return cache[name]


@admits_anyone
async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of every route of this node."""
    return web.Response(body=_document(request, "openapi"), content_type="application/json")


@admits_anyone
async def asyncapi_json(request: web.Request) -> web.Response:
    """The AsyncAPI 3.0 document of the room channel's frames."""
    return web.Response(body=_document(request, "asyncapi"), content_type="application/json")


def _file(request: web.Request, name: str) -> web.StreamResponse:
    path = request.app[DOCS_FILES].get(name)
    if path is None:
        raise ApiError(ErrorCode.not_found, f"No file {'/docs/' + name[:80]!r}.")
    headers = {"Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": CACHE}
    if path.suffix == ".html":
        headers[CSP] = POLICIES.get(name, DOCS_POLICY)
    return web.FileResponse(path, headers=headers)


@admits_anyone
async def docs_page(request: web.Request) -> web.StreamResponse:
    """The HTTP API, rendered (the channel's page is linked from it)."""
    return _file(request, "index.html")


@admits_anyone
async def docs_file(request: web.Request) -> web.StreamResponse:
    """A page, script or style sheet of ``clients/docs``."""
    return _file(request, request.match_info["file"])


def add_routes(app: web.Application) -> None:
    """The routes; after ``pages.add_routes`` (``clients/docs`` is next to the viewer's)."""
    app[DOCS_FILES] = docs_files(app[VIEWER_ROOT].parent / "docs")
    app[DOCUMENTS] = {}
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/asyncapi.json", asyncapi_json)
    app.router.add_get("/docs", docs_page)
    app.router.add_get("/docs/{file:.+}", docs_file)
