"""Replays: the list of a room's and the latest ones, one with its timeline, deletion,
and their files (``/replays/{id}/…``) with Range, ETag and caching.

Files are served by the node that recorded them; another node answers 307 to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from livecommerce.auth import Role
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.replays.models import (
    CONTENT_TYPES,
    FILE_NAME,
    Replay,
    ReplayStatus,
    room_of,
)
from livecommerce.replays.storage import ObjectStore, StorageError
from livecommerce.store.replies_replays import ReplayBuyKind
from livecommerce.web.access import (
    RoomFrom,
    admits,
    admits_anyone,
    caller,
    require_room_scope,
)
from livecommerce.web.body import optional_int, read_json_object, reject_unknown, text_field
from livecommerce.web.node_calls import own_url
from livecommerce.web.query import int_param
from livecommerce.web.rate import KeyedBuckets
from livecommerce.web.rooms import room_id_of
from livecommerce.web.state import PRINCIPAL, RECORDINGS, ROOMS, SETTINGS

MAX_LIST: Final = 100
MAX_ID_CHARS: Final = 128
MAX_QTY: Final = 100
# Replay buys per user on this node (None: no limit).
REPLAY_BUY_LIMITER = web.AppKey[KeyedBuckets | None]("replay_buy_limiter")
# A finished segment never changes; a playlist changes while live and once at the end.
IMMUTABLE: Final = "public, max-age=31536000, immutable"
LIVE_PLAYLIST: Final = "no-cache"
VOD_FILE: Final = "public, max-age=300"


async def replay_of(request: web.Request) -> Replay:
    replay_id = request.match_info["replay"]
    replay = await request.app[RECORDINGS].index.get(replay_id) if room_of(replay_id) else None
    if replay is None:
        raise ApiError(ErrorCode.replay_not_found, f"No replay {replay_id[:80]!r}.")
    return replay


@admits_anyone
async def room_replays(request: web.Request) -> web.Response:
    """The room's replays, newest first (``?limit=``, 1-100): a JSON array, as the
    contract names it; 404 for a room that never existed (a deleted room's replays
    stay listed while they are kept)."""
    room_id = room_id_of(request)
    limit = int_param(request, "limit", 1, MAX_LIST, 20)
    replays = await request.app[RECORDINGS].index.of_room(room_id, limit)
    if not replays and await request.app[ROOMS].find(room_id) is None:
        raise ApiError(ErrorCode.room_not_found, f"No room with id {room_id!r}.")
    return web.json_response([r.to_json() for r in replays])


@admits_anyone
async def recent_replays(request: web.Request) -> web.Response:
    """Finished replays of every room, newest first (the home page's list)."""
    limit = int_param(request, "limit", 1, MAX_LIST, 20)
    replays = await request.app[RECORDINGS].index.recent(limit)
    return web.json_response({"replays": [r.to_json() for r in replays]})


@admits_anyone
async def get_replay(request: web.Request) -> web.Response:
    """The replay and its timeline (``t`` in seconds from its start)."""
    replay = await replay_of(request)
    timeline = await request.app[RECORDINGS].index.timeline(replay)
    return web.json_response({**replay.to_json(), "timeline": timeline})


@admits(Role.anchor, Role.admin, room_from=RoomFrom.handler)
async def delete_replay(request: web.Request) -> web.Response:
    """Delete a replay: its index entry, timeline and (on its node) files."""
    replay = await replay_of(request)
    principal = caller(request)
    require_room_scope(principal, replay.room)
    if principal.role is not Role.admin and principal.user != replay.anchor:
        raise ApiError(
            ErrorCode.not_your_room, "Only the replay's anchor or an admin may delete it."
        )
    await request.app[RECORDINGS].delete(replay)
    return web.json_response({"deleted": replay.id})


@admits(Role.viewer, Role.anchor, Role.moderator, Role.admin, room_from=RoomFrom.handler)
async def buy_from_replay(request: web.Request) -> web.Response:
    """``{product_id, qty?, key}`` → an order at the product's list price (``source:
    "replay"``): 201 when reserved now, 200 for a repeat of the same key or a refusal."""
    replay = await replay_of(request)
    principal = caller(request)
    require_room_scope(principal, replay.room)
    limiter = request.app[REPLAY_BUY_LIMITER]
    if limiter is not None and not limiter.take(principal.user):
        raise ApiError(ErrorCode.rate_limited, headers={"Retry-After": "2"})
    body = await read_json_object(request)
    reject_unknown(body, {"product_id", "qty", "key"})
    product_id = text_field(body, "product_id", max_chars=MAX_ID_CHARS, required=True)
    key = text_field(body, "key", max_chars=MAX_ID_CHARS, required=True)
    qty = optional_int(body, "qty", 1, MAX_QTY) or 1
    reply = await request.app[RECORDINGS].shop.buy(replay, principal.user, product_id, qty, key)
    status = 201 if reply.kind is ReplayBuyKind.new else 200
    return web.json_response({"key": key, **reply.answer.to_json()}, status=status)


@admits_anyone
async def replay_file(request: web.Request) -> web.StreamResponse:
    """A file of a replay, from the node that holds it (307 there from any other)."""
    name = request.match_info["name"]
    replay = await replay_of(request)
    require_watcher(request, replay.room)
    if not FILE_NAME.match(name):
        raise ApiError(ErrorCode.not_found, f"A replay has no file {name[:80]!r}.")
    recordings = request.app[RECORDINGS]
    directory = recordings.local_directory(replay.id)
    if directory is None and replay.storage == "s3" and recordings.bucket is not None:
        return await _from_bucket(recordings.bucket, replay, name, recordings.settings.s3_url_ttl_s)
    if directory is None:
        here = own_url(request)
        if replay.node_url and replay.node_url != here:
            raise web.HTTPTemporaryRedirect(f"{replay.node_url}/replays/{replay.id}/{name}")
        raise ApiError(ErrorCode.not_found, "This replay's files are gone.")
    live = replay.status is ReplayStatus.recording
    return serve_recording_file(directory, name, live=live)


async def _from_bucket(
    bucket: ObjectStore, replay: Replay, name: str, ttl_s: int
) -> web.StreamResponse:
    """A playlist is passed through (its relative URIs must resolve here); anything else
    is a 307 to a presigned URL of the object."""
    if name not in replay.files:
        raise ApiError(ErrorCode.not_found, f"This replay has no file {name[:80]!r}.")
    key = bucket.key(replay.id, name)
    if not name.endswith(".m3u8"):
        raise web.HTTPTemporaryRedirect(bucket.presigned_get(key, ttl_s))
    try:
        body = await bucket.get(key)
    except StorageError as exc:
        raise ApiError(
            ErrorCode.node_unavailable, f"The replay's storage did not answer: {exc}"[:200]
        ) from None
    headers = {"Content-Type": CONTENT_TYPES[".m3u8"], "Cache-Control": VOD_FILE}
    return web.Response(body=body, headers=headers)


def require_watcher(request: web.Request, room_id: str) -> None:
    """Video files are watching: with ``auth.viewer_token_required`` they need a token, as
    WHEP does, and a token limited to a room reaches that room's video only."""
    principal = request.get(PRINCIPAL)
    if principal is None and request.app[SETTINGS].auth.viewer_token_required:
        raise ApiError(ErrorCode.unauthorized, "Watching needs a token on this server.")
    require_room_scope(principal, room_id)


def serve_recording_file(directory: Path, name: str, *, live: bool) -> web.FileResponse:
    """One recording file with Range, ETag/Last-Modified (aiohttp) and its cache policy."""
    path = directory / name
    if not path.is_file():
        raise ApiError(ErrorCode.not_found, f"No file {name[:80]!r} (yet).")
    if name.endswith(".m3u8"):
        cache = LIVE_PLAYLIST if live else VOD_FILE
    elif name.endswith((".m4s", ".mp4")):
        cache = IMMUTABLE
    else:
        cache = LIVE_PLAYLIST if live else VOD_FILE
    headers = {"Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": cache}
    return web.FileResponse(path, headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{room}/replays", room_replays)
    app.router.add_get("/api/replays", recent_replays)
    app.router.add_get("/api/replays/{replay}", get_replay)
    app.router.add_delete("/api/replays/{replay}", delete_replay)
    app.router.add_post("/api/replays/{replay}/orders", buy_from_replay)
    per_minute = app[SETTINGS].recording.replay_buys_per_minute
    app[REPLAY_BUY_LIMITER] = KeyedBuckets(per_minute, per_minute / 60) if per_minute else None
    app.router.add_get("/replays/{replay}/{name}", replay_file)
