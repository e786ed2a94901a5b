"""Shard channel subscriptions (SSUBSCRIBE) on a standalone store or a cluster.

A shard channel lives on the node that owns its hash slot, so a subscriber
keeps one pub/sub connection per node that owns a subscribed channel (one
connection in all on a standalone store), each read by its own task.

Guarantees:

* a message published on a subscribed channel while its connection is up is
  handed to ``on_message`` once, in the order the node sent it;
* ``subscribe`` returns (and ``on_gap`` is called after a resubscription) once
  the node has confirmed the subscription, so a message published after that
  is received (or after ``CONFIRM_TIMEOUT_S`` without a confirmation, logged);
* when a connection breaks, or the node drops a subscription because the
  channel's slot moved to another node (it sends ``sunsubscribe``), the
  subscriber refreshes the slot map, subscribes each affected channel again
  on the node that owns it now, and calls ``on_gap`` with those channels:
  messages published in between are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import SlotNotCoveredError

from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.tasks import Supervisor, cancel_and_wait

log = logging.getLogger("livecommerce.store.pubsub")

READ_TIMEOUT_S = 1.0
REPAIR_DELAY_S = 0.5
CONFIRM_TIMEOUT_S = 2.0
# Connection options of a cluster node that a dedicated pub/sub pool reuses.
NODE_OPTIONS = (
    "username",
    "password",
    "credential_provider",
    "socket_connect_timeout",
    "socket_timeout",
    "socket_keepalive",
)
STANDALONE = "standalone"

OnMessage = Callable[[bytes, bytes], None]
OnGap = Callable[[set[str]], None]


class GapAwarePubSub(PubSub):
    """A PubSub that notes when redis-py re-established its connection by itself
    (events may be lost), and that subscribes again one slot per command (a cluster
    node refuses an SSUBSCRIBE whose channels span slots)."""

    reconnected = False
    _connected_before = False

    async def on_connect(self, connection: Any) -> None:
        await super().on_connect(connection)
        if self._connected_before:
            self.reconnected = True
        self._connected_before = True

    async def _resubscribe_shard_channels(self) -> None:
        for channel in list(self.shard_channels):
            await self.ssubscribe(channel)


@dataclass(eq=False)
class _Shard:
    """One node's pub/sub connection and the channels subscribed on it."""

    name: str
    pubsub: GapAwarePubSub
    pool: redis.ConnectionPool | None  # None: borrowed from the standalone client
    channels: set[str] = field(default_factory=set)
    reader: asyncio.Task[None] | None = None
    # Channels whose SSUBSCRIBE the node has not confirmed yet, set by the reader.
    confirming: dict[str, asyncio.Event] = field(default_factory=dict)


class ShardSubscriber:
    """Subscriptions to shard channels; see the module docstring for the guarantees."""

    def __init__(self, client: StoreClient, on_message: OnMessage, on_gap: OnGap) -> None:
        self._client = client
        self._on_message = on_message
        self._on_gap = on_gap
        self._shards: dict[str, _Shard] = {}
        self._where: dict[str, str] = {}  # channel -> shard name
        self._lock = asyncio.Lock()
        self._readers = Supervisor(grace_s=0.0, logger=log)
        self._closing = False

    def node_of(self, channel: str) -> str | None:
        """The name of the node (``host:port``) holding the channel's subscription."""
        return self._where.get(channel)

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            await self._subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            name = self._where.pop(channel, None)
            shard = self._shards.get(name) if name is not None else None
            if shard is None:
                return
            shard.channels.discard(channel)
            with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
                await shard.pubsub.sunsubscribe(channel)

    async def aclose(self) -> None:
        """Stop every reader and close every connection."""
        self._closing = True
        await self._readers.stop()
        async with self._lock:
            shards = list(self._shards.values())
            self._shards.clear()
            self._where.clear()
        for shard in shards:
            await self._close(shard)

    async def _subscribe(self, channel: str) -> None:
        name, pool = await self._route(channel)
        shard = self._shards.get(name)
        if shard is None:
            owned = isinstance(self._client, RedisCluster)
            shard = _Shard(name, GapAwarePubSub(pool), pool if owned else None)
            self._shards[name] = shard
        confirmed = shard.confirming.setdefault(channel, asyncio.Event())
        try:
            await shard.pubsub.ssubscribe(channel)
        except BaseException:
            shard.confirming.pop(channel, None)
            if not shard.channels:
                self._shards.pop(name, None)
                await self._close(shard)
            raise
        shard.channels.add(channel)
        self._where[channel] = name
        if shard.reader is None:
            shard.reader = self._readers.spawn(f"pubsub-reader-{name}", self._read(shard))
        await self._confirmation(shard, channel, confirmed)

    @staticmethod
    async def _confirmation(shard: _Shard, channel: str, confirmed: asyncio.Event) -> None:
        """Wait for the node to confirm the subscription: SSUBSCRIBE is only sent, and a
        message published before the node handles it is not delivered."""
        try:
            async with asyncio.timeout(CONFIRM_TIMEOUT_S):
                await confirmed.wait()
        except TimeoutError:
            log.warning("%s did not confirm the subscription of %s in time", shard.name, channel)
        finally:
            if shard.confirming.get(channel) is confirmed:
                del shard.confirming[channel]

    async def _route(self, channel: str) -> tuple[str, redis.ConnectionPool]:
        """The name of the node owning the channel's slot and a pool of connections to it."""
        client = self._client
        if not isinstance(client, RedisCluster):
            return STANDALONE, client.connection_pool
        await client.initialize()
        node = client.get_node_from_key(channel)
        if node is None:  # only possible when asking for a replica
            raise SlotNotCoveredError(f"no node serves the slot of {channel}")
        shard = self._shards.get(node.name)
        if shard is not None and shard.pool is not None:
            return node.name, shard.pool
        return node.name, _node_pool(node)

    async def _read(self, shard: _Shard) -> None:
        pubsub = shard.pubsub
        while not self._closing:
            try:
                message = await pubsub.get_message(timeout=READ_TIMEOUT_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._closing:
                    log.warning("store pub/sub on %s failed (%s); resubscribing", shard.name, exc)
                    await self._repair(shard)
                return
            if pubsub.reconnected:
                pubsub.reconnected = False
                log.info("store pub/sub on %s reconnected; listeners resynchronise", shard.name)
                self._on_gap(set(shard.channels))
            if message is None:
                continue
            kind = message["type"]
            if kind == "smessage":
                self._on_message(message["channel"], message["data"])
            elif kind == "ssubscribe":
                confirmed = shard.confirming.get(message["channel"].decode())
                if confirmed is not None:
                    confirmed.set()
            elif kind == "sunsubscribe" and message["channel"].decode() in shard.channels:
                log.info(
                    "store moved %s away from %s; resubscribing", message["channel"], shard.name
                )
                await self._repair(shard)
                return

    async def _repair(self, shard: _Shard) -> None:
        """Drop the shard's connection and subscribe its channels again where they live
        now, until that works or the subscriber closes."""
        async with self._lock:
            if self._shards.get(shard.name) is shard:
                del self._shards[shard.name]
            channels = {c for c in shard.channels if self._where.get(c) == shard.name}
            shard.reader = None  # this task ends after the repair; _close must not cancel it
        await self._close(shard)
        while channels and not self._closing:
            await self._refresh_slots()
            async with self._lock:
                for channel in sorted(channels):
                    if self._closing or self._where.get(channel) != shard.name:
                        channels.discard(channel)  # unsubscribed, or already moved
                        continue
                    try:
                        await self._subscribe(channel)
                        self._on_gap({channel})
                        channels.discard(channel)
                    except Exception as exc:
                        log.warning("resubscribing %s failed (%s); trying again", channel, exc)
                        break
            if channels:
                await asyncio.sleep(REPAIR_DELAY_S)

    async def _refresh_slots(self) -> None:
        if isinstance(self._client, RedisCluster):
            try:
                await self._client.nodes_manager.initialize()
            except Exception as exc:
                log.warning("reading the cluster's slot map failed: %s", exc)

    async def _close(self, shard: _Shard) -> None:
        reader, shard.reader = shard.reader, None
        if reader is not asyncio.current_task():
            await cancel_and_wait(reader)
        with contextlib.suppress(Exception):
            await shard.pubsub.aclose()
        if shard.pool is not None:
            with contextlib.suppress(Exception):
                await shard.pool.aclose()


def _node_pool(node: ClusterNode) -> redis.ConnectionPool:
    """A pool of its own for pub/sub on one cluster node, with the node's options."""
    options = {
        key: value
        for key, value in node.connection_kwargs.items()
        if key in NODE_OPTIONS or key.startswith("ssl_")
    }
    return redis.ConnectionPool(
        connection_class=node.connection_class,
        host=node.host,
        port=node.port,
        max_connections=2,
        **options,
    )
