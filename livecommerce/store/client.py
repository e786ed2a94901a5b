"""The store client: a redis-py asyncio client for a ``redis://``, ``rediss://`` or ``unix://`` URL.

The client reconnects by itself: a command after the store comes back opens a
fresh connection. Retries are few and short so a dead store turns into a 503
within about a second instead of hanging requests.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import TimeoutError as StoreTimeoutError

StoreClient = redis.Redis

STORE_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    StoreConnectionError,
    StoreTimeoutError,
    ConnectionError,
    asyncio.TimeoutError,
)


def connect(
    url: str, connect_timeout_s: float, command_timeout_s: float, retries: int
) -> StoreClient:
    """A client for ``url``; no connection is opened until the first command."""
    return redis.from_url(
        url,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=command_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        retry_on_error=[StoreConnectionError, StoreTimeoutError],
        decode_responses=False,
    )


async def ping(client: StoreClient, timeout_s: float) -> bool:
    """True when the store answers PING within ``timeout_s``."""
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout_s))
    except STORE_UNAVAILABLE_ERRORS:
        return False


def mask_url(url: str) -> str:
    """The URL with any password (in the authority or the query) replaced by ``***``."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query)
    if parts.password is None and not any(k.lower() == "password" for k, _ in pairs):
        return url
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:***@{host}"
    query = urlencode(
        [(k, "***" if k.lower() == "password" else v) for k, v in pairs],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
