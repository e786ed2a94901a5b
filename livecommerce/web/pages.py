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
from livecommerce.web import sdk
from livecommerce.web.access import admits_anyone
from livecommerce.web.headers import CSP, PAGE_POLICY
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


def viewer_directory() -> Path:
    """``clients/viewer`` wherever the ``clients`` package is installed."""
    spec = importlib.util.find_spec("clients")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the clients package is not installed; reinstall livecommerce")
    return Path(next(iter(spec.submodule_search_locations))) / "viewer"


def _file_response(path: Path, cache: str, policy: str | None = None) -> web.FileResponse:
    """The file with its type and caching; ``web.headers`` adds the common headers."""
    headers = {"Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": cache}
    if policy is not None:
        headers[CSP] = policy
    return web.FileResponse(path, headers=headers)


@admits_anyone
async def home(request: web.Request) -> web.StreamResponse:
    """The list of live rooms."""
    page = request.app[VIEWER_ROOT] / "index.html"
    return _file_response(page, PAGE_CACHE, request.app[PAGE_POLICY])


@admits_anyone
async def room(request: web.Request) -> web.StreamResponse:
    """One room: player, chat and shop (the page reads the room id from its URL)."""
    room_id_of(request)
    page = request.app[VIEWER_ROOT] / "room.html"
    return _file_response(page, PAGE_CACHE, request.app[PAGE_POLICY])


@admits_anyone
async def studio_room(request: web.Request) -> web.StreamResponse:
    """The anchor's analytics dashboard of one room (the page asks for a token itself)."""
    room_id_of(request)
    page = request.app[VIEWER_ROOT] / "studio-room.html"
    return _file_response(page, PAGE_CACHE, request.app[PAGE_POLICY])


@admits_anyone
async def moderator_console(request: web.Request) -> web.StreamResponse:
    """The moderator console of one room (its API calls need a staff token)."""
    room_id_of(request)
    page = request.app[VIEWER_ROOT] / "console.html"
    return _file_response(page, PAGE_CACHE, request.app[PAGE_POLICY])


@admits_anyone
async def studio(request: web.Request) -> web.StreamResponse:
    """The anchor's web studio (it asks for the anchor token itself)."""
    page = request.app[VIEWER_ROOT] / "studio.html"
    return _file_response(page, PAGE_CACHE, request.app[PAGE_POLICY])


@admits_anyone
async def replay(request: web.Request) -> web.StreamResponse:
    """One replay: video with seeking, product cards at their time, the chat in sync."""
    page = request.app[VIEWER_ROOT] / "replay.html"
    return _file_response(page, PAGE_CACHE, request.app[PAGE_POLICY])


def viewer_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names under ``root`` if it may be served, else None.

    The path comes from a URL: a NUL byte (``%00``), a name the file system finds too
    long, hidden parts, a way out of ``root`` or a kind not in :data:`CONTENT_TYPES`
    each mean "no such file", never an error of the file system reaching the client.
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in relative):
        return None
    if any(part.startswith(".") for part in Path(relative).parts):
        return None
    try:
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or path.suffix not in CONTENT_TYPES:
            return None
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


@admits_anyone
async def asset(request: web.Request) -> web.StreamResponse:
    """A file under the viewer directory whose kind is in :data:`CONTENT_TYPES`."""
    relative = request.match_info["path"]
    path = viewer_file(request.app[VIEWER_ROOT], relative)
    if path is None:
        raise ApiError(ErrorCode.not_found, f"No file {'/static/' + relative[:80]!r}.")
    return _file_response(path, ASSET_CACHE)


def add_routes(app: web.Application, root: Path | None = None) -> None:
    app[VIEWER_ROOT] = (root or viewer_directory()).resolve()
    app.router.add_get("/", home)
    app.router.add_get("/rooms/{room}", room)
    app.router.add_get("/studio/rooms/{room}", studio_room)
    app.router.add_get("/mod/rooms/{room}", moderator_console)
    app.router.add_get("/studio", studio)
    app.router.add_get("/replays/{replay}", replay)
    app.router.add_get("/static/{path:.+}", asset)
    sdk.add_routes(app, app[VIEWER_ROOT].parent / "sdk")
