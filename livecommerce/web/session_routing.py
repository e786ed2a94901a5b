"""Requests for a WHIP/WHEP session that another node holds: forwarded there, or redirected.

A media session id starts with the id of the node holding it
(``<node id>.<random>``). A DELETE or PATCH of ``/whip|whep/{room}/{session}``
that lands on another node (a load balancer does not know) is passed to that
node through the registry (``media.session_requests = "forward"``, the
default: the client sees the holding node's answer) or answered ``307`` to
the session's URL there (``"redirect"``). A node whose registry entry has
lapsed took its sessions with it: DELETE answers 200 (the session is gone,
which is what DELETE asks for) and PATCH 404. A passed-on request is signed
by the passing node and names the client it came from
(``livecommerce.nodes.signing``); node URLs come from the registry, which
holds each node's configured URL, never from a request.
"""

from __future__ import annotations

import functools
import logging
from typing import Final

import aiohttp
from aiohttp import web

from livecommerce.errors import ApiError, ErrorCode
from livecommerce.nodes.registry import node_of_session
from livecommerce.nodes.signing import HEADER as NODE_HEADER
from livecommerce.web.access import Handler
from livecommerce.web.node_calls import forwarded_headers
from livecommerce.web.state import NODE_HTTP, NODE_ID, NODES, SETTINGS
from media.session_ids import session_label

log = logging.getLogger("livecommerce.web.routing")

FORWARD_TIMEOUT_S: Final = 10.0
REQUEST_HEADERS: Final = ("Authorization", "Content-Type", "If-Match", "Origin")
RESPONSE_HEADERS: Final = ("Content-Type", "ETag", "Allow", "Retry-After", "Link")


def routed_to_holder(handler: Handler) -> Handler:
    """Run ``handler`` here only when this node holds the session (or nobody can)."""

    @functools.wraps(handler)
    async def routed(request: web.Request) -> web.StreamResponse:
        answer = await _route(request)
        return answer if answer is not None else await handler(request)

    return routed


async def _route(request: web.Request) -> web.StreamResponse | None:
    session_id = request.match_info["session"]
    node_id = node_of_session(session_id)
    # A request one node passed to another is handled where it lands, so a registry that
    # briefly disagrees between nodes can never bounce it around (a stranger sending the
    # header only gets this node's own answer: its signature is checked where it counts).
    if node_id is None or node_id == request.app[NODE_ID] or NODE_HEADER in request.headers:
        return None
    node = await request.app[NODES].find(node_id)
    if node is None:
        if request.method == "DELETE":
            return web.Response(status=200)
        raise ApiError(
            ErrorCode.session_not_found,
            f"No media session {session_id[:64]!r}: the node that held it is gone.",
        )
    target = node.url + request.raw_path
    if request.app[SETTINGS].media.session_requests == "redirect":
        raise web.HTTPTemporaryRedirect(target)
    return await _forward(request, node.url, target)


async def _forward(request: web.Request, node_url: str, target: str) -> web.Response:
    headers = {name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers}
    body = await request.read()
    headers.update(forwarded_headers(request, target, body))
    try:
        async with request.app[NODE_HTTP].request(
            request.method,
            target,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_S),
        ) as reply:
            payload = await reply.read()
            kept = {name: reply.headers[name] for name in RESPONSE_HEADERS if name in reply.headers}
            return web.Response(status=reply.status, body=payload, headers=kept)
    except (aiohttp.ClientError, TimeoutError) as exc:
        # Session URLs are capabilities: the log names the session by its label.
        session = session_label(request.match_info["session"])
        log.warning("cannot pass %s of %s to %s: %r", request.method, session, node_url, exc)
        raise ApiError(ErrorCode.node_unavailable, headers={"Retry-After": "1"}) from None
