"""The room bus: room events across nodes through the store's sharded pub/sub.

Every node publishes a room's events to the shard channel
``lc:{r:ROOM}:events`` and keeps one subscription per room that has local
listeners, fanning each event out to them. A single node takes the same path.

Guarantees (those of Redis pub/sub):

* an event reaches every node subscribed to the room at the time it is
  published, at most once;
* events of one room published by one node arrive in the order published
  (one channel, one shard);
* events published while a node's subscription is down are lost for that
  node: after the bus reconnects it calls every listener's ``on_gap`` so the
  consumer can resynchronise from the store (history, snapshots).

Listeners run on the bus's reader task and must not block: they hand the
event to bounded per-connection buffers and return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgpack

from livecommerce.store.client import StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.pubsub import ShardSubscriber

log = logging.getLogger("livecommerce.bus")

Event = dict[str, Any]


@dataclass(eq=False)
class Listener:
    """A local consumer of one room's events."""

    room_id: str
    on_event: Callable[[Event], None]
    on_gap: Callable[[], None] = field(default=lambda: None)


class RoomBus(Protocol):
    """Room events across nodes; see the module docstring for the guarantees."""

    async def publish(self, room_id: str, event: Mapping[str, Any]) -> None:
        """Send ``event`` (a map with a ``type``) to every node listening to the room."""

    async def listen(self, listener: Listener) -> None:
        """Start delivering the room's events to ``listener``."""

    async def unlisten(self, listener: Listener) -> None:
        """Stop delivering to ``listener``; the last one of a room ends the subscription."""


class StoreRoomBus:
    """:class:`RoomBus` on the store's sharded pub/sub (SPUBLISH / SSUBSCRIBE); on a
    cluster each room's channel is read from the node that owns its slot."""

    def __init__(self, client: StoreClient, keys: Keys) -> None:
        self._client = client
        self._keys = keys
        self._listeners: dict[str, set[Listener]] = {}
        self._channels: dict[bytes, str] = {}
        self._subscriber: ShardSubscriber | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._subscriber = ShardSubscriber(self._client, self._deliver, self._signal_gap)

    async def stop(self) -> None:
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            await subscriber.aclose()

    async def publish(self, room_id: str, event: Mapping[str, Any]) -> None:
        payload = msgpack.packb(dict(event), use_bin_type=True)
        await self._client.spublish(self._keys.room_events(room_id), payload)

    async def listen(self, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.setdefault(listener.room_id, set())
            first = not listeners
            listeners.add(listener)
            if first:
                channel = self._keys.room_events(listener.room_id)
                self._channels[channel.encode()] = listener.room_id
                assert self._subscriber is not None, "the bus is not started"
                try:
                    await self._subscriber.subscribe(channel)
                except BaseException:
                    listeners.discard(listener)
                    raise

    async def unlisten(self, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.get(listener.room_id)
            if not listeners or listener not in listeners:
                return
            listeners.discard(listener)
            if listeners:
                return
            del self._listeners[listener.room_id]
            channel = self._keys.room_events(listener.room_id)
            self._channels.pop(channel.encode(), None)
            if self._subscriber is not None:
                await self._subscriber.unsubscribe(channel)

    def listening_rooms(self) -> set[str]:
        """Rooms with at least one local listener."""
        return set(self._listeners)

    def node_of(self, room_id: str) -> str | None:
        """The store node whose pub/sub carries the room's events here (``host:port`` on a
        cluster), or None when not listening."""
        if self._subscriber is None:
            return None
        return self._subscriber.node_of(self._keys.room_events(room_id))

    def _deliver(self, channel: bytes, data: bytes) -> None:
        room_id = self._channels.get(channel)
        if room_id is None:
            return
        try:
            event = msgpack.unpackb(data, raw=False)
        except (ValueError, msgpack.ExtraData) as exc:
            log.warning("dropping an undecodable event on %s: %s", room_id, exc)
            return
        if not isinstance(event, dict):
            log.warning("dropping a non-map event on %s", room_id)
            return
        for listener in list(self._listeners.get(room_id, ())):
            try:
                listener.on_event(event)
            except Exception:
                log.exception("listener of room %s failed on %s", room_id, event.get("type"))

    def _signal_gap(self, channels: set[str]) -> None:
        for channel in channels:
            room_id = self._channels.get(channel.encode())
            for listener in list(self._listeners.get(room_id, ()) if room_id else ()):
                try:
                    listener.on_gap()
                except Exception:
                    log.exception("gap handler of room %s failed", listener.room_id)
