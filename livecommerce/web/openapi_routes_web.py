"""The OpenAPI rows of every route outside ``/api``: health, metrics, WHIP/WHEP, the
channel's upgrade, pages, files and the specs themselves (see openapi_routes_api.py)."""

from __future__ import annotations

from types import MappingProxyType

from livecommerce.web.openapi_ops import (
    PAGE,
    SDP,
    SDP_FRAGMENT,
    Body,
    Op,
    Query,
    Reply,
    file_reply,
)
from livecommerce.web.openapi_schemas import OBJECT, STRING, obj

SDP_TEXT = {"type": "string", "description": "an SDP document"}
ICE = 'one `<url>; rel="ice-server"` per configured STUN/TURN server'
CREATED = Reply(
    "The SDP answer; the session's URL is in Location",
    SDP,
    SDP_TEXT,
    MappingProxyType(
        {
            "Location": "the session's URL: PATCH to trickle, DELETE to end",
            "ETag": "the session's entity tag, for If-Match on PATCH",
            "Accept-Patch": SDP_FRAGMENT,
            "Link": ICE,
        }
    ),
)
PREFLIGHT = MappingProxyType(
    {
        204: Reply(
            "CORS preflight and the Accept-Post advertisement",
            None,
            headers={"Accept-Post": SDP, "Link": ICE},
        )
    }
)
TRICKLED = MappingProxyType({204: Reply("Candidates taken", None)})
ENDED = MappingProxyType({200: Reply("Ended (also when it had already ended)", None)})
OFFER = Body({SDP: SDP_TEXT})
FRAGMENT = Body({SDP_FRAGMENT: SDP_TEXT})
IF_MATCH = "`If-Match` (optional) must be the session's ETag (412 otherwise)."
WHIP_WHO = "the room's anchor"
FILE_HEADERS = MappingProxyType({"ETag": "the file's entity tag", "Cache-Control": "caching"})


def _sdp(kind: str, who: str, summary: str, errors: tuple[int, ...]) -> dict[str, Op]:
    """The five operations of a WHIP or WHEP endpoint."""
    base, session = f"/{kind}/{{room}}", f"/{kind}/{{room}}/{{session}}"
    return {
        f"POST {base}": Op(
            summary=summary,
            tag="media",
            who=who,
            body=OFFER,
            replies={201: CREATED},
            errors=errors,
        ),
        f"OPTIONS {base}": Op(summary="Preflight", tag="media", replies=PREFLIGHT),
        f"PATCH {session}": Op(
            summary="Trickle ICE candidates (RFC 8840 fragment)",
            tag="media",
            who=who,
            description=IF_MATCH,
            body=FRAGMENT,
            replies=TRICKLED,
            errors=(412, 422),
        ),
        f"DELETE {session}": Op(
            summary="End the session",
            tag="media",
            who=who if kind == "whep" else "the room's anchor, moderator, admin",
            replies=ENDED,
        ),
        f"OPTIONS {session}": Op(summary="Preflight", tag="media", replies=PREFLIGHT),
    }


OPERATIONS: dict[str, Op] = {
    "GET /healthz": Op(
        summary="200 while the process runs",
        tag="operations",
        replies={200: Reply("Alive", schema=obj({"status": {"const": "ok"}}))},
    ),
    "GET /readyz": Op(
        summary="200 when the store answers and the node is not draining",
        tag="operations",
        replies={200: Reply("Ready", schema=obj({"status": {"const": "ready"}}))},
    ),
    "GET /metrics": Op(
        summary="Prometheus metrics (404 when off)",
        tag="operations",
        who="anyone (admin when `metrics.public = false`)",
        replies={200: Reply("Prometheus text format", "text/plain", STRING)},
    ),
    **_sdp("whip", WHIP_WHO, "Publish: an SDP offer from the room's anchor", (409, 422)),
    **_sdp(
        "whep", "anyone (the session URL is the capability)", "Play: a recvonly offer", (409, 422)
    ),
    "GET /ws/rooms/{room}": Op(
        summary="The room channel (WebSocket upgrade; frames in /asyncapi.json)",
        tag="channel",
        who="anyone; a token (query `token` or Authorization) to chat and buy",
        query=(
            Query("format", {"type": "string", "enum": ["msgpack", "json"]}),
            Query("resume", STRING, "the last chat id seen"),
            Query("token", STRING, "the bearer token, for browsers"),
        ),
        replies={101: Reply("Switching to the WebSocket protocol", None)},
    ),
    "GET /": Op(summary="The live rooms page", tag="pages", replies=PAGE),
    "GET /rooms/{room}": Op(summary="A room's page", tag="pages", replies=PAGE),
    "GET /studio": Op(summary="The anchor's web studio", tag="pages", replies=PAGE),
    "GET /studio/rooms/{room}": Op(summary="A room's analytics page", tag="pages", replies=PAGE),
    "GET /mod/rooms/{room}": Op(summary="The moderator console", tag="pages", replies=PAGE),
    "GET /replays/{replay}": Op(summary="A replay's page", tag="pages", replies=PAGE),
    "GET /static/{path}": Op(
        summary="The web client's scripts, styles and icons",
        tag="pages",
        description="`path` may hold slashes.",
        replies=file_reply("The file"),
    ),
    "GET /sdk/{name}": Op(
        summary="The JavaScript SDK (any site may load it)",
        tag="pages",
        replies=file_reply("The file", "text/javascript"),
    ),
    "GET /images/{name}": Op(
        summary="A stored product image",
        tag="commerce",
        replies={
            **file_reply("The image (If-None-Match → 304)", "image/*"),
            304: Reply("Not modified", None),
        },
    ),
    "GET /replays/{replay}/{name}": Op(
        summary="A replay's file: playlist, init segment, segments or WebM",
        tag="replays",
        description="Range, ETag, Last-Modified and If-None-Match work as HTTP says.",
        replies={
            200: Reply("The file", "application/octet-stream", STRING, FILE_HEADERS),
            206: Reply("A range of the file", "application/octet-stream", STRING),
            304: Reply("Not modified", None),
            307: Reply(
                "The node or object store holding the file",
                None,
                headers=MappingProxyType({"Location": "where the file is"}),
            ),
            416: Reply("Range not satisfiable", None),
        },
    ),
    "GET /hls/{room}/{name}": Op(
        summary="Live HLS of a room live in H.264",
        tag="media",
        replies={
            200: Reply("The file", "application/octet-stream", STRING),
            307: Reply(
                "The origin node", None, headers=MappingProxyType({"Location": "the origin's file"})
            ),
        },
    ),
    "GET /openapi.json": Op(
        summary="This document",
        tag="operations",
        replies={200: Reply("OpenAPI 3.1", schema=OBJECT)},
    ),
    "GET /asyncapi.json": Op(
        summary="The room channel's frames as AsyncAPI 3.0",
        tag="operations",
        replies={200: Reply("AsyncAPI 3.0", schema=OBJECT)},
    ),
    "GET /docs": Op(summary="Both documents, rendered", tag="pages", replies=PAGE),
    "GET /docs/{file}": Op(
        summary="The renderers' files", tag="pages", replies=file_reply("The file")
    ),
}
