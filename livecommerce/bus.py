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

What travels is a :class:`Delivery`: the event (a client frame, a map with a
``type``) and how to route it (everyone in the room, or one user's sessions;
close them afterwards; set or cancel a per-session timer). The bus checks
each delivery with the ``check`` it was built with before publishing (the
app passes the channel's event registry), so an unregistered event type, or
one sent to the wrong audience, raises instead of leaving the node.

On the wire a delivery is a msgpack array ``[1, event]`` or ``[1, event,
routing]`` (``1`` is the wire version). Readers also accept version 0, the
bare event map with routing keys ``_to``, ``_close``, ``_timer``,
``_then_at`` and ``_then`` inside it, which nodes of earlier releases
publish, so a rolling upgrade loses nothing from old nodes; those old nodes
drop version 1 arrays (logging "non-map event") rather than misroute them.
A delivery of an unknown version or shape is dropped with a warning.

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

Event = Mapping[str, object]
WIRE_VERSION = 1
LEGACY_ROUTING_KEYS = ("_to", "_close", "_timer", "_then_at", "_then")
ROUTING_KEYS = frozenset({"to", "close", "timer", "staff"})
DROP_LOG_EVERY = 1000
# Per-session timers that moderation sets and the channel's welcome sets again.
ROOM_MUTE_TIMER = "room-mute"
USER_MUTE_TIMER = "user-mute"


@dataclass(frozen=True)
class Timer:
    """A per-session timer, one per ``name`` and session: a new one replaces the old.

    With ``then`` and ``at_ms`` > 0 the receiving sessions get ``then`` at
    ``at_ms`` (ms since the epoch); otherwise their timer ``name`` is cancelled.
    """

    name: str
    at_ms: int = 0
    then: Event | None = None

    @property
    def cancels(self) -> bool:
        return self.then is None or self.at_ms <= 0


@dataclass(frozen=True)
class Delivery:
    """A room event and its routing; everything but ``event`` is for the receiving hub.

    ``to``: only that user's sessions get it (None: everyone in the room).
    ``staff``: only the room's staff sessions get it (its anchor, moderators, admins).
    ``close_code``: close the receiving sessions with this code after sending it.
    ``timer``: then set or cancel a timer on each receiving session.
    """

    event: Event
    to: str | None = None
    close_code: int | None = None
    timer: Timer | None = None
    staff: bool = False

    @property
    def type(self) -> str:
        return str(self.event.get("type", ""))

    @property
    def routed(self) -> bool:
        """False for a plain broadcast to everyone in the room."""
        return (
            self.to is not None
            or self.close_code is not None
            or self.timer is not None
            or self.staff
        )


EventCheck = Callable[[Delivery], None]


def encode_delivery(delivery: Delivery) -> bytes:
    """The wire form (version 1) of ``delivery``."""
    routing: dict[str, object] = {}
    if delivery.to is not None:
        routing["to"] = delivery.to
    if delivery.close_code is not None:
        routing["close"] = delivery.close_code
    if delivery.timer is not None:
        timer = delivery.timer
        routing["timer"] = [timer.name, timer.at_ms, dict(timer.then) if timer.then else None]
    if delivery.staff:
        routing["staff"] = True
    message: list[object] = [WIRE_VERSION, dict(delivery.event)]
    if routing:
        message.append(routing)
    payload: bytes = msgpack.packb(message, use_bin_type=True)
    return payload


def decode_delivery(data: bytes) -> Delivery:
    """A delivery from its wire form (version 1, or the version 0 map); ValueError
    with the reason for anything else."""
    value = msgpack.unpackb(data, raw=False)
    if isinstance(value, dict):
        return _legacy_delivery(value)
    if not isinstance(value, list) or not value:
        raise ValueError("a delivery must be an array or a map")
    version = value[0]
    if version != WIRE_VERSION or isinstance(version, bool):
        raise ValueError(f"wire version {str(version)[:20]!r} is not one this node reads")
    if len(value) not in (2, 3):
        raise ValueError(f"a version 1 delivery has 2 or 3 items, not {len(value)}")
    event = _event(value[1])
    routing = value[2] if len(value) == 3 else {}
    if not isinstance(routing, dict):
        raise ValueError("the routing of a delivery must be a map")
    unknown = set(routing) - ROUTING_KEYS
    if unknown:
        # Routing this node does not understand could widen the audience: drop it.
        raise ValueError(f"unknown routing {sorted(str(key)[:20] for key in unknown)}")
    to, close, timer = routing.get("to"), routing.get("close"), routing.get("timer")
    if to is not None and not isinstance(to, str):
        raise ValueError("'to' must be a user id")
    if close is not None and not _is_int(close):
        raise ValueError("'close' must be a close code")
    staff = routing.get("staff", False)
    if not isinstance(staff, bool):
        raise ValueError("'staff' must be true or false")
    return Delivery(event, to=to, close_code=close, timer=_timer(timer), staff=staff)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _event(value: object) -> Event:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise ValueError("an event must be a map with a string 'type'")
    return value


def _timer(value: object) -> Timer | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError("'timer' must be [name, at_ms, then]")
    name, at_ms, then = value
    if not isinstance(name, str) or not _is_int(at_ms):
        raise ValueError("'timer' must be [name, at_ms, then]")
    return Timer(name, at_ms, None if then is None else _event(then))


def _legacy_delivery(value: dict[Any, Any]) -> Delivery:
    """Version 0: routing keys inside the event, read as earlier releases' hubs read them."""
    event = _event({key: item for key, item in value.items() if key not in LEGACY_ROUTING_KEYS})
    to = value.get("_to")
    if to is not None and not isinstance(to, str):
        raise ValueError("'_to' must be a user id")
    close = value.get("_close")
    name, at_ms, then = value.get("_timer"), value.get("_then_at"), value.get("_then")
    timer = None
    if isinstance(name, str):
        timer = Timer(name)
        if isinstance(then, dict) and isinstance(at_ms, int) and at_ms > 0:
            timer = Timer(name, at_ms, _event(then))
    return Delivery(event, to=to, close_code=close if _is_int(close) else None, timer=timer)


@dataclass(eq=False)
class Listener:
    """A local consumer of one room's deliveries."""

    room_id: str
    on_event: Callable[[Delivery], None]
    on_gap: Callable[[], None] = field(default=lambda: None)


class RoomBus(Protocol):
    """Room events across nodes; see the module docstring for the guarantees."""

    async def publish(self, room_id: str, delivery: Delivery | Event) -> None:
        """Send ``delivery`` to every node listening to the room; a bare event (a map
        with a ``type``) goes to everyone in the room. Raises ValueError, before
        sending anything, for a delivery the bus's check refuses."""

    def publish_command(self, room_id: str, delivery: Delivery) -> tuple[str, str, bytes]:
        """The store command that publishes ``delivery``, for a caller that sends it in a
        pipeline of its own (the buys of one tick); checked as :meth:`publish` checks."""

    async def listen(self, listener: Listener) -> None:
        """Start delivering the room's events to ``listener``."""

    async def unlisten(self, listener: Listener) -> None:
        """Stop delivering to ``listener``; the last one of a room ends the subscription."""


class StoreRoomBus:
    """:class:`RoomBus` on the store's sharded pub/sub (SPUBLISH / SSUBSCRIBE); on a
    cluster each room's channel is read from the node that owns its slot.

    ``check`` sees every delivery before it is published and raises ValueError for
    one that must not be sent (the app passes the channel's event registry)."""

    def __init__(self, client: StoreClient, keys: Keys, *, check: EventCheck) -> None:
        self._client = client
        self._keys = keys
        self._check = check
        self._listeners: dict[str, set[Listener]] = {}
        self._channels: dict[bytes, str] = {}
        self._subscriber: ShardSubscriber | None = None
        self._lock = asyncio.Lock()
        self._dropped = 0

    async def start(self) -> None:
        self._subscriber = ShardSubscriber(self._client, self._deliver, self._signal_gap)

    async def stop(self) -> None:
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            await subscriber.aclose()

    async def publish(self, room_id: str, delivery: Delivery | Event) -> None:
        if not isinstance(delivery, Delivery):
            delivery = Delivery(delivery)
        self._check(delivery)
        await self._client.spublish(self._keys.room_events(room_id), encode_delivery(delivery))

    def publish_command(self, room_id: str, delivery: Delivery) -> tuple[str, str, bytes]:
        self._check(delivery)
        return ("SPUBLISH", self._keys.room_events(room_id), encode_delivery(delivery))

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
            delivery = decode_delivery(data)
        except ValueError as exc:
            # Logged once per DROP_LOG_EVERY: a peer of another wire version sends many.
            if self._dropped % DROP_LOG_EVERY == 0:
                log.warning(
                    "dropping an undecodable delivery on %s (%d dropped so far): %s",
                    room_id,
                    self._dropped + 1,
                    exc,
                )
            self._dropped += 1
            return
        for listener in list(self._listeners.get(room_id, ())):
            try:
                listener.on_event(delivery)
            except Exception:
                log.exception("listener of room %s failed on %s", room_id, delivery.type)

    def _signal_gap(self, channels: set[str]) -> None:
        for channel in channels:
            room_id = self._channels.get(channel.encode())
            for listener in list(self._listeners.get(room_id, ()) if room_id else ()):
                try:
                    listener.on_gap()
                except Exception:
                    log.exception("gap handler of room %s failed", listener.room_id)
