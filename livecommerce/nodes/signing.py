"""Requests one node makes to another, signed so that no stranger can pass for a node.

Nodes of a deployment share the token signing secret (``auth.secret``); each
request a node sends to another (a WHEP pull, a forwarded session PATCH or
DELETE) carries one header::

    Livecommerce-Node: v1 <node id> <unix seconds> <client> <HMAC-SHA256, hex>

over the method, the path with its query, the body's SHA-256 and the fields
before it, with a key derived from the secret for this use only (a token
signature cannot be replayed as a node signature, nor the reverse).
``client`` is the address of the client the request is made for (a forwarded
request), or ``-`` when the node acts for itself (a pull): per-address limits
count that client, never the node passing the request on. A signature is
accepted for ``MAX_SKEW_S`` seconds either side of the receiver's clock.
Within that window a request seen on the wire could be sent again as it is,
so node-to-node traffic belongs on a private network or TLS.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Final

HEADER: Final = "Livecommerce-Node"
VERSION: Final = "v1"
MAX_SKEW_S: Final = 30
NO_CLIENT: Final = "-"
_KEY_LABEL: Final = b"livecommerce node-to-node requests v1"


@dataclass(frozen=True)
class NodeCall:
    """A verified request from another node; ``client`` None: the node acts for itself."""

    node_id: str
    client: str | None


def node_key(secret: str) -> bytes:
    """The signing key of node-to-node requests, derived from the token secret."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, fields: list[str], method: str, path: str, body: bytes) -> str:
    message = "\n".join([*fields, method.upper(), path, hashlib.sha256(body).hexdigest()])
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def sign(
    key: bytes,
    node_id: str,
    method: str,
    path: str,
    body: bytes = b"",
    client: str | None = None,
    now: float | None = None,
) -> str:
    """The header value for a request to ``path`` (path and query, as sent)."""
    if client is not None and (not client or any(c.isspace() for c in client)):
        raise ValueError(f"client {client!r} must be a non-empty word")
    fields = [VERSION, node_id, str(int(time.time() if now is None else now)), client or NO_CLIENT]
    return " ".join([*fields, _mac(key, fields, method, path, body)])


def verify(
    key: bytes, header: str, method: str, path: str, body: bytes, now: float | None = None
) -> NodeCall | None:
    """The call the header proves, or None when it proves nothing (any defect)."""
    parts = header.split(" ")
    if len(parts) != 5 or parts[0] != VERSION or not parts[1]:
        return None
    fields, mac = parts[:4], parts[4]
    try:
        signed_at = int(fields[2])
    except ValueError:
        return None
    if abs((time.time() if now is None else now) - signed_at) > MAX_SKEW_S:
        return None
    if not hmac.compare_digest(mac, _mac(key, fields, method, path, body)):
        return None
    client = fields[3]
    return NodeCall(fields[1], None if client == NO_CLIENT else client)
