"""``GET /sdk/{file}``: the JavaScript SDK (``clients/sdk/``) for pages of any site.

Only the SDK directory's own top-level files of the kinds below are served, looked up by
name in a list made at start-up (no path is ever joined from the URL). They are public
code with no secrets, so every answer carries ``Access-Control-Allow-Origin: *``: a page
of another site loads them as ES modules, which browsers fetch in CORS mode.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.web.access import admits_anyone

SDK_FILES = web.AppKey("sdk_files", dict[str, Path])
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".ts": "application/typescript; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
}
# Unversioned URLs: cached briefly, then revalidated by Last-Modified/ETag.
CACHE = "public, max-age=300"


def sdk_files(root: Path) -> dict[str, Path]:
    """The servable files of ``root`` by name."""
    if not root.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(root.iterdir())
        if path.is_file() and not path.name.startswith(".") and path.suffix in CONTENT_TYPES
    }


@admits_anyone
async def sdk_file(request: web.Request) -> web.StreamResponse:
    """One SDK file, with its type and ``Access-Control-Allow-Origin: *``."""
    name = request.match_info["name"]
    path = request.app[SDK_FILES].get(name)
    if path is None:
        raise ApiError(ErrorCode.not_found, f"No file {'/sdk/' + name[:80]!r}.")
    headers = {
        "Content-Type": CONTENT_TYPES[path.suffix],
        "Cache-Control": CACHE,
        "Access-Control-Allow-Origin": "*",
    }
    return web.FileResponse(path, headers=headers)


def add_routes(app: web.Application, root: Path) -> None:
    app[SDK_FILES] = sdk_files(root)
    app.router.add_get("/sdk/{name}", sdk_file)
