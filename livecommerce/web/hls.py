"""Live HLS: ``GET /hls/{room}/index.m3u8`` and its segments while an H.264 room is live.

The files are the room's recording in progress (the same segments become the
replay). The origin node serves them; any other node answers 307 to the origin.
"""

from __future__ import annotations

from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.replays.models import FILE_NAME
from livecommerce.rooms.models import RoomStatus
from livecommerce.web.access import admits_anyone
from livecommerce.web.node_calls import own_url
from livecommerce.web.replays import require_watcher, serve_recording_file
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import RECORDINGS, ROOMS


@admits_anyone
async def live_file(request: web.Request) -> web.StreamResponse:
    room_id = room_id_of(request)
    require_watcher(request, room_id)
    name = request.match_info["name"]
    if not FILE_NAME.match(name) or name == "video.webm":
        raise ApiError(ErrorCode.not_found, f"Live HLS has no file {name[:80]!r}.")
    directory = request.app[RECORDINGS].live_directory(room_id)
    if directory is not None:
        return serve_recording_file(directory, name, live=True)
    room = await request.app[ROOMS].get(room_id)
    here = own_url(request)
    live = room.status is RoomStatus.live and await request.app[RECORDINGS].hls_path(room_id)
    if live and room.origin and room.origin != here:
        raise web.HTTPTemporaryRedirect(f"{room.origin}/hls/{room_id}/{name}")
    raise ApiError(ErrorCode.hls_not_available, f"Room {room_id!r} has no live HLS now.")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/hls/{room}/{name}", live_file)
