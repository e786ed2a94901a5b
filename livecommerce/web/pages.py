"""The viewer web client: ``GET /``, ``GET /rooms/{room}`` and ``/static/...``.

The files live in ``clients/viewer/`` of the installed distribution (a wheel
too). They are located, never imported: ``clients`` must stay free to change
without the server depending on its code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import admits_anyone
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import VIEWER_ROOT

# Only these kinds of files are served; anything else under the directory is not.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}
# Pages are revalidated every time (a new deploy shows at once); assets are unversioned,
# so they are cached briefly and then revalidated by Last-Modified/ETag.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"
# Other nodes may answer WHEP (307 to a room's origin), and covers and product images
# may come from anywhere, hence http(s) in connect-src and img-src.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: http: https:; media-src 'self' blob:; "
    "connect-src 'self' http: https: ws: wss:; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)


def viewer_directory() -> Path:
    """``clients/viewer`` wherever the ``clients`` package is installed."""
    spec = importlib.util.find_spec("clients")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the clients package is not installed; reinstall livecommerce")
    return Path(next(iter(spec.submodule_search_locations))) / "viewer"


def _file_response(path: Path, cache: str, policy: str | None = None) -> web.FileResponse:
    headers = {
        "Content-Type": CONTENT_TYPES[path.suffix],
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if policy is not None:
        headers["Content-Security-Policy"] = policy
    return web.FileResponse(path, headers=headers)


@admits_anyone
async def home(request: web.Request) -> web.StreamResponse:
    """The list of live rooms."""
    return _file_response(request.app[VIEWER_ROOT] / "index.html", PAGE_CACHE, PAGE_POLICY)


@admits_anyone
async def room(request: web.Request) -> web.StreamResponse:
    """One room: player, chat and shop (the page reads the room id from its URL)."""
    room_id_of(request)
    return _file_response(request.app[VIEWER_ROOT] / "room.html", PAGE_CACHE, PAGE_POLICY)


@admits_anyone
async def asset(request: web.Request) -> web.StreamResponse:
    """A file under the viewer directory whose kind is in :data:`CONTENT_TYPES`."""
    root = request.app[VIEWER_ROOT]
    relative = request.match_info["path"]
    path = (root / relative).resolve()
    hidden = any(part.startswith(".") for part in Path(relative).parts)
    if (
        hidden
        or not path.is_relative_to(root)
        or path.suffix not in CONTENT_TYPES
        or not path.is_file()
    ):
        raise ApiError(ErrorCode.not_found, f"No file /static/{relative[:80]}.")
    return _file_response(path, ASSET_CACHE)


def add_routes(app: web.Application, root: Path | None = None) -> None:
    app[VIEWER_ROOT] = (root or viewer_directory()).resolve()
    app.router.add_get("/", home)
    app.router.add_get("/rooms/{room}", room)
    app.router.add_get("/static/{path:.+}", asset)
