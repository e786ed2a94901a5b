"""The store client: a redis-py asyncio client for a ``redis://``, ``rediss://`` or
``unix://`` URL, or a cluster client for ``redis+cluster://`` / ``rediss+cluster://``.

A cluster URL names one or more startup nodes, comma-separated
(``redis+cluster://user:pass@10.0.0.1:6379,10.0.0.2:6379``); the client finds
the others and the slot map itself and follows MOVED / ASK redirections.

The client reconnects by itself: a command after the store comes back opens a
fresh connection. Retries are few and short so a dead store turns into a 503
within about a second instead of hanging requests.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ClusterError, SlotNotCoveredError
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import TimeoutError as StoreTimeoutError

from livecommerce.config import cluster_startup_nodes, is_cluster_url
from livecommerce.store.pool import FairConnectionPool

StoreClient = redis.Redis | RedisCluster

# Python's own ConnectionError is left out on purpose: aiohttp raises subclasses of it
# when a client goes away, which is not the store's fault. redis-py wraps socket errors.
STORE_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    StoreConnectionError,
    StoreTimeoutError,
    asyncio.TimeoutError,
    # A cluster that is down or has a slot no node serves (a master died without a replica).
    ClusterError,
    SlotNotCoveredError,
)


def connect(
    url: str,
    connect_timeout_s: float,
    command_timeout_s: float,
    retries: int,
    max_connections: int = 128,
) -> StoreClient:
    """A client for ``url``; no connection is opened until the first command.

    The pool is bounded, blocking and fair (:class:`FairConnectionPool`): a burst of
    requests waits in arrival order, each up to ``command_timeout_s`` for a free
    connection, instead of failing at once. On a
    cluster each node has its own pool of ``max_connections``, which fails at once
    (a store-unavailable error) when exhausted.
    """
    if is_cluster_url(url):
        return _connect_cluster(url, connect_timeout_s, command_timeout_s, retries, max_connections)
    pool = FairConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=command_timeout_s,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=command_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        retry_on_error=[StoreConnectionError, StoreTimeoutError],
        decode_responses=False,
    )
    return redis.Redis.from_pool(pool)


def _connect_cluster(
    url: str, connect_timeout_s: float, command_timeout_s: float, retries: int, max_connections: int
) -> RedisCluster:
    plain_url, nodes = cluster_startup_nodes(url)
    options: dict[str, Any] = dict(parse_url(plain_url))
    options.pop("host", None)
    options.pop("port", None)
    if options.pop("connection_class", None) is not None:
        options["ssl"] = True  # only rediss:// sets one
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in nodes],
        max_connections=max_connections,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=command_timeout_s,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
        retry_on_error=[StoreConnectionError, StoreTimeoutError],
        decode_responses=False,
        **options,
    )


async def ping(client: StoreClient, timeout_s: float) -> bool:
    """True when the store answers PING within ``timeout_s``."""
    try:
        return bool(await asyncio.wait_for(client.ping(), timeout_s))
    except STORE_UNAVAILABLE_ERRORS:
        return False


async def warm(client: StoreClient, connections: int) -> None:
    """Open up to ``connections`` pool connections now (PINGs in parallel); a store that
    does not answer is left for later."""
    if connections > 0:
        await asyncio.gather(*(client.ping() for _ in range(connections)), return_exceptions=True)


def mask_url(url: str) -> str:
    """The URL with any password (in the authority or a ``password=`` query) as ``***``.

    Works on the text itself rather than re-assembling parsed parts, so IPv6
    brackets, ``unix:///`` paths and blank query values come out unchanged.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority_end = min(
        (i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest)
    )
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hostport = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.partition(':')[0]}:***@{hostport}"
    path, question, query_and_fragment = tail.partition("?")
    if question:
        query, hash_mark, fragment = query_and_fragment.partition("#")
        masked = [
            f"{name}=***" if name.lower() == "password" else pair
            for pair in query.split("&")
            for name in [pair.partition("=")[0]]
        ]
        tail = f"{path}?{'&'.join(masked)}{hash_mark}{fragment}"
    return f"{scheme}://{authority}{tail}"
