"""Requests between the nodes of a deployment, as the WHIP/WHEP handlers see them.

* :func:`own_url`: this node's URL, for the room's origin record, the registry
  and redirects. It comes from ``server.public_url``, else from
  ``server.host`` and the port the node listens on; never from a request's
  ``Host`` (an anchor could otherwise send every other node's pulls, and the
  viewers' redirects, to a host of its choosing).
* :func:`node_call`: a request another node signed (``livecommerce.nodes.signing``);
  a header that does not verify proves nothing and is ignored.
* :func:`media_client`: whom the per-address media limit counts for a request.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from yarl import URL

from livecommerce.nodes.signing import HEADER, NodeCall, node_key, sign, verify
from livecommerce.web.client_address import client_address
from livecommerce.web.state import NODE_ID, NODES, SIGNING_SECRET


def own_url(request: web.Request) -> str:
    """This node's URL, as the registry advertises it (no trailing slash)."""
    registry = request.app[NODES]
    if not registry.port_known:
        # Configured with port 0: the port of this connection's local end is the one
        # the node listens on (the client chooses nothing here but to connect).
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if isinstance(sockname, tuple) and len(sockname) >= 2:
            registry.learn_port(int(sockname[1]))
    return registry.url


async def node_call(request: web.Request) -> NodeCall | None:
    """The verified node-to-node call this request is, or None."""
    header = request.headers.get(HEADER)
    if header is None:
        return None
    body = await request.read()
    key = node_key(request.app[SIGNING_SECRET])
    return verify(key, header, request.method, request.raw_path, body)


async def media_client(request: web.Request) -> tuple[str | None, bool]:
    """(client the per-address limit counts, whether a node asks for itself).

    A request a node passed on counts the client it names (and is that client's
    request in every other way); a node's own request (a pull) counts against no
    address: its viewers are counted where they watch.
    """
    call = await node_call(request)
    if call is not None:
        return call.client, call.client is None
    return client_address(request), False


def node_signer(secret: str, node_id: str) -> Callable[[str, str, bytes], dict[str, str]]:
    """Headers signing this node's own requests (pulls) to ``url``."""
    key = node_key(secret)

    def headers(method: str, url: str, body: bytes) -> dict[str, str]:
        return {HEADER: sign(key, node_id, method, URL(url).raw_path_qs, body)}

    return headers


def forwarded_headers(request: web.Request, target: str, body: bytes) -> dict[str, str]:
    """The signature of ``request`` passed on to ``target`` for the client who sent it."""
    key = node_key(request.app[SIGNING_SECRET])
    path = URL(target).raw_path_qs
    value = sign(key, request.app[NODE_ID], request.method, path, body, client_address(request))
    return {HEADER: value}
