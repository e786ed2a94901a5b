"""The store client: a redis-py asyncio client for a ``redis://``, ``rediss://`` or
``unix://`` URL, or a cluster client for ``redis+cluster://`` / ``rediss+cluster://``.

A cluster URL names one or more startup nodes, comma-separated
(``redis+cluster://user:pass@10.0.0.1:6379,10.0.0.2:6379``); the client finds
the others and the slot map itself and follows MOVED / ASK redirections.

The client reconnects by itself: a command after the store comes back opens a
fresh connection. Retries are few and short so a dead store turns into a 503
within about a second instead of hanging requests.

A plain URL must name a standalone server. A node of a cluster would answer
only for its own slots (``MOVED`` for the rest), so every new connection of a
plain URL asks ``INFO cluster`` first and a cluster node fails it with
:class:`ClusterNodeError` (a connection error: the node answers 503 and logs why);
``livecommerce serve`` asks once before starting and refuses to start
(:func:`standalone_problem`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import AbstractConnection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ClusterError, RedisError, ResponseError, SlotNotCoveredError
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import TimeoutError as StoreTimeoutError

from livecommerce.config import CLUSTER_SCHEMES, cluster_startup_nodes, is_cluster_url
from livecommerce.store.pool import FairConnectionPool, FairRedisCluster

log = logging.getLogger("livecommerce.store")

StoreClient = redis.asyncio.Redis | RedisCluster


class ClusterNodeError(StoreConnectionError):
    """A plain ``redis://`` URL names a node of a cluster; the message names the
    ``redis+cluster://`` URL to use instead."""


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
    connection, instead of failing at once. On a cluster each node has its own pool of
    ``max_connections``, and the client lets at most that many commands run at once
    (:class:`FairRedisCluster`): the others wait their turn the same way, up to
    ``command_timeout_s``, then fail with a store-unavailable error.
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
        redis_connect_func=_standalone_only(url),
    )
    return redis.asyncio.Redis.from_pool(pool)


def cluster_enabled(info: object) -> bool:
    """True when an ``INFO cluster`` answer (parsed into a dict, or raw text) says
    ``cluster_enabled:1``."""
    if isinstance(info, dict):
        return str(info.get("cluster_enabled", "0")) == "1"
    text = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    return any(line.strip() == "cluster_enabled:1" for line in text.splitlines())


def _cluster_node_message(url: str) -> str:
    scheme, _, rest = url.partition("://")
    cluster_scheme = {plain: cluster for cluster, plain in CLUSTER_SCHEMES.items()}.get(
        scheme.lower(), "redis+cluster"
    )
    return (
        f"{mask_url(url)} is a node of a cluster (cluster_enabled:1); "
        f"use {mask_url(f'{cluster_scheme}://{rest}')}"
    )


def _standalone_only(url: str) -> Callable[[AbstractConnection], Awaitable[None]]:
    """A connect hook: the usual handshake, then ``INFO cluster``; a cluster node's
    connection fails with ClusterNodeError (logged once). A store that refuses INFO
    (renamed, ACL) is taken as it is."""
    logged = False

    async def on_connect(connection: AbstractConnection) -> None:
        nonlocal logged
        await connection.on_connect()
        await connection.send_command("INFO", "cluster")
        try:
            info = await connection.read_response()
        except ResponseError:
            return
        if cluster_enabled(info):
            message = _cluster_node_message(url)
            if not logged:
                logged = True
                log.error("store.url: %s; every store call fails until it is changed", message)
            raise ClusterNodeError(message)

    return on_connect


def standalone_problem(url: str, timeout_s: float) -> str | None:
    """Why a plain store URL cannot be used (it names a cluster node), or None. A store
    that does not answer, or hides INFO, passes: the connect hook checks again."""
    if not url or is_cluster_url(url):
        return None
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        info = client.info("cluster")
    except (RedisError, OSError):
        return None
    finally:
        client.close()
    return _cluster_node_message(url) if cluster_enabled(info) else None


def _connect_cluster(
    url: str, connect_timeout_s: float, command_timeout_s: float, retries: int, max_connections: int
) -> RedisCluster:
    plain_url, nodes = cluster_startup_nodes(url)
    options: dict[str, Any] = dict(parse_url(plain_url))
    options.pop("host", None)
    options.pop("port", None)
    if options.pop("connection_class", None) is not None:
        options["ssl"] = True  # only rediss:// sets one
    return FairRedisCluster(
        wait_s=command_timeout_s,
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
