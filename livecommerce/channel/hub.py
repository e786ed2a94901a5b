"""The node's rooms: local sessions per room, fed from the room bus.

Each :class:`~livecommerce.bus.Delivery` from the bus is sent to the room's
sessions, or to one user's sessions when it names one (``to``); then the
receiving sessions are closed (``close_code``) or get a per-session timer
set or cancelled (``timer``, used for mute expiry). Frames from other nodes
are passed on as they come, so a node of a newer release may add frame
types; frames this node sends itself are checked against the event registry.

Each event is encoded once per wire format for all local sessions. Plain
broadcasts that arrive in the same event-loop tick (a busy room's chat, read
from the bus in one go) are joined and written to each session at once: one
write per session per tick instead of one per event. Routed events first
send what is queued, so every session sees events in bus order. The hub
also reports the local viewer count per room and broadcasts room totals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from livecommerce.bus import Delivery, Event, Listener, RoomBus
from livecommerce.channel.events import check_frame
from livecommerce.channel.presence import Presence
from livecommerce.channel.session import ChannelSession
from livecommerce.channel.wire import FrameBatch, OutgoingFrame, WireFormat
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.hub")


@dataclass(eq=False)
class RoomChannel:
    room_id: str
    listener: Listener
    sessions: set[ChannelSession] = field(default_factory=set)
    viewers: int = -1
    likes: int = 0
    # Plain broadcasts of this tick, not yet written.
    queued: list[OutgoingFrame] = field(default_factory=list)


class ChannelHub:
    """Local fan-out of room events to this node's sessions."""

    def __init__(self, bus: RoomBus, presence: Presence, viewers_interval_s: float) -> None:
        self._bus = bus
        self._presence = presence
        self._viewers_interval_s = viewers_interval_s
        self._rooms: dict[str, RoomChannel] = {}
        self._lock = asyncio.Lock()
        self._tasks = Supervisor(logger=log)
        self._queued_rooms: list[RoomChannel] = []

    def start(self) -> None:
        self._tasks.every("viewer-counts", self._viewers_interval_s, self.report_viewers)

    async def stop(self) -> None:
        await self._tasks.stop()
        for room in list(self._rooms.values()):
            for session in list(room.sessions):
                session.close(1001, "server shutting down")
            with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
                await self._presence.report(room.room_id, 0)
        for room in list(self._rooms.values()):
            for session in list(room.sessions):
                await session.wait_closed()

    async def close_sessions(self, code: int, reason: str) -> None:
        """Close every local session and wait until each has closed."""
        sessions = [session for room in self._rooms.values() for session in room.sessions]
        for session in sessions:
            session.close(code, reason)
        for session in sessions:
            await session.wait_closed()

    def session_counts(self) -> dict[str, int]:
        """Sessions in every room on this node, by wire format (each format listed)."""
        counts = dict.fromkeys((wire.value for wire in WireFormat), 0)
        for room in self._rooms.values():
            for session in room.sessions:
                counts[session.wire.value] += 1
        return counts

    def local_viewers(self, room_id: str) -> int:
        """Sessions of the room on this node, not counting those being closed."""
        room = self._rooms.get(room_id)
        return _audience(room) if room else 0

    def viewers(self, room_id: str) -> int:
        """The last room total this node heard (its local count before the first report)."""
        room = self._rooms.get(room_id)
        if room is None:
            return 0
        return room.viewers if room.viewers >= 0 else _audience(room)

    async def join(self, session: ChannelSession) -> None:
        """Start delivering the room's events to ``session`` (held until its welcome)."""
        async with self._lock:
            room = self._rooms.get(session.room_id)
            if room is None:
                room_id = session.room_id
                listener = Listener(
                    room_id,
                    on_event=lambda event: self._on_event(room_id, event),
                    on_gap=lambda: self._on_gap(room_id),
                )
                room = RoomChannel(room_id, listener)
                await self._bus.listen(listener)
                self._rooms[room_id] = room
            room.sessions.add(session)

    async def leave(self, session: ChannelSession) -> None:
        async with self._lock:
            room = self._rooms.get(session.room_id)
            if room is None or session not in room.sessions:
                return
            room.sessions.discard(session)
            if room.sessions:
                return
            del self._rooms[session.room_id]
            await self._bus.unlisten(room.listener)
        with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
            await self._presence.report(session.room_id, 0)

    def broadcast_local(self, room_id: str, message: Event) -> None:
        """Send a frame to this node's sessions of the room only; EventError if the
        event registry does not describe it."""
        check_frame(message)
        room = self._rooms.get(room_id)
        if room is None:
            return
        self._write_queued(room)
        frame = OutgoingFrame(dict(message))
        for session in list(room.sessions):
            session.deliver(frame)

    def _on_event(self, room_id: str, delivery: Delivery) -> None:
        room = self._rooms.get(room_id)
        if room is None:
            return
        event = delivery.event
        if delivery.type == "likes":
            total = event.get("total")
            if not isinstance(total, int) or total <= room.likes:
                return  # totals from several nodes may cross; never show a smaller one
            room.likes = total
        frame = OutgoingFrame(dict(event))
        if not delivery.routed:
            self._queue(room, frame)
            return
        self._write_queued(room)
        timer = delivery.timer
        later = None
        if timer is not None and timer.then is not None and not timer.cancels:
            later = OutgoingFrame(dict(timer.then))
        sessions = [
            s
            for s in room.sessions
            if (delivery.to is None or s.user == delivery.to)
            and (s.privileged or not delivery.staff)
        ]
        for session in sessions:
            session.deliver(frame)
            if timer is not None:
                if later is None:
                    session.cancel(timer.name)
                else:
                    session.schedule(timer.name, timer.at_ms, later)
            if delivery.close_code is not None:
                session.close(delivery.close_code, delivery.type)

    def _on_gap(self, room_id: str) -> None:
        """The bus may have lost events: tell clients to resume from their last id."""
        self.broadcast_local(room_id, {"type": "resync"})

    async def report_viewers(self) -> None:
        """Report every local room's count and broadcast totals that changed."""
        for room in list(self._rooms.values()):
            try:
                count = await self._presence.report(room.room_id, _audience(room))
            except STORE_UNAVAILABLE_ERRORS:
                continue
            if count.total != room.viewers:
                room.viewers = count.total
                self.broadcast_local(room.room_id, {"type": "viewers", "count": count.total})

    def _queue(self, room: RoomChannel, frame: OutgoingFrame) -> None:
        if not room.queued:
            if not self._queued_rooms:
                asyncio.get_running_loop().call_soon(self._write_all_queued)
            self._queued_rooms.append(room)
        room.queued.append(frame)

    def _write_all_queued(self) -> None:
        rooms, self._queued_rooms = self._queued_rooms, []
        for room in rooms:
            self._write_queued(room)

    def _write_queued(self, room: RoomChannel) -> None:
        frames, room.queued = room.queued, []
        if len(frames) == 1:
            for session in list(room.sessions):
                session.deliver(frames[0])
        elif frames:
            batch = FrameBatch(frames)
            for session in list(room.sessions):
                session.deliver_batch(batch)


def _audience(room: RoomChannel) -> int:
    """Viewers on this node: each signed-in user once however many sockets it holds, plus
    each anonymous socket (at most ``channel.max_sockets_per_address`` per address); not
    the room's anchor or staff, nor sessions being closed."""
    users: set[str] = set()
    anonymous = 0
    for session in room.sessions:
        if session.closing or session.privileged:
            continue
        if session.user is None:
            anonymous += 1
        else:
            users.add(session.user)
    return len(users) + anonymous
