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
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgpack
from redis.asyncio.client import PubSub

from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.keys import Keys
from livecommerce.tasks import stop_loop

log = logging.getLogger("livecommerce.bus")

Event = dict[str, Any]
RECONNECT_DELAY_S = 0.5
READ_TIMEOUT_S = 1.0


class GapAwarePubSub(PubSub):
    """A PubSub that notes when its connection was re-established (events may be lost)."""

    reconnected = False
    _connected_before = False

    async def on_connect(self, connection: Any) -> None:
        await super().on_connect(connection)
        if self._connected_before:
            self.reconnected = True
        self._connected_before = True


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
    """:class:`RoomBus` on the store's sharded pub/sub (SPUBLISH / SSUBSCRIBE)."""

    def __init__(self, client: StoreClient, keys: Keys) -> None:
        self._client = client
        self._keys = keys
        self._listeners: dict[str, set[Listener]] = {}
        self._channels: dict[bytes, str] = {}
        self._pubsub: GapAwarePubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self._pubsub = GapAwarePubSub(self._client.connection_pool)
        self._reader = asyncio.create_task(self._read(), name="room-bus-reader")

    async def stop(self) -> None:
        await stop_loop(self._stopping, self._reader)
        self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = None

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
                assert self._pubsub is not None, "the bus is not started"
                try:
                    await self._pubsub.ssubscribe(channel)
                except BaseException:
                    listeners.discard(listener)
                    raise
                self._subscribed.set()

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
            if self._pubsub is not None:
                with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
                    await self._pubsub.sunsubscribe(channel)

    def listening_rooms(self) -> set[str]:
        """Rooms with at least one local listener."""
        return set(self._listeners)

    def _deliver(self, message: Mapping[str, Any]) -> None:
        room_id = self._channels.get(message["channel"])
        if room_id is None:
            return
        try:
            event = msgpack.unpackb(message["data"], raw=False)
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

    def _signal_gap(self) -> None:
        for listeners in list(self._listeners.values()):
            for listener in list(listeners):
                try:
                    listener.on_gap()
                except Exception:
                    log.exception("gap handler of room %s failed", listener.room_id)

    async def _read(self) -> None:
        broken = False
        while not self._stopping.is_set():
            await self._subscribed.wait()
            pubsub = self._pubsub
            assert pubsub is not None
            try:
                if broken:
                    await self._resubscribe(pubsub)
                    broken = False
                    pubsub.reconnected = True
                    continue
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=READ_TIMEOUT_S
                )
            except STORE_UNAVAILABLE_ERRORS as exc:
                if not broken:
                    log.warning("room bus lost the store (%s); reconnecting", exc)
                broken = True
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            except Exception:
                log.exception("room bus reader failed; starting over")
                broken = True
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            if pubsub.reconnected:
                pubsub.reconnected = False
                log.info("room bus reconnected; listeners resynchronise")
                self._signal_gap()
            if message is not None and message["type"] in ("smessage", "message"):
                self._deliver(message)

    async def _resubscribe(self, pubsub: GapAwarePubSub) -> None:
        async with self._lock:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            channels = [self._keys.room_events(room) for room in self._listeners]
            if channels:
                await pubsub.ssubscribe(*channels)
            else:
                self._subscribed.clear()
