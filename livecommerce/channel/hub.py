"""The node's rooms: local sessions per room, fed from the room bus.

Each :class:`~livecommerce.bus.Delivery` from the bus is sent to the room's
sessions, or to one user's sessions when it names one (``to``); then the
receiving sessions are closed (``close_code``) or get a per-session timer
set or cancelled (``timer``, used for mute expiry). Frames from other nodes
are passed on as they come, so a node of a newer release may add frame
types; frames this node sends itself are checked against the event registry.

Coalesced writes: every event of a room (routed or not, from the bus or
local) is held for ``channel.write_delay_ms`` (0: until the end of the
event-loop tick), then the window is written to each session as one write,
its frames joined and encoded once per wire format for every session that
gets the same ones (see :mod:`livecommerce.channel.window`), by a pass over
the room's sessions a slice per tick; a window that closes during a pass
joins it (:mod:`livecommerce.channel.passes`). Each session sees events in
bus order. In a room whose viewers chat faster than
``channel.sampling_chat_rate``, viewers get a fair sample of viewer chat
(:mod:`livecommerce.channel.sampling`), decided once per window for the whole
node, and are told so with ``chat_sampling``. Answers to one socket's own
frames (``session.send``) are not held.

The hub also reports the local viewer count per room and broadcasts room
totals: exact up to ``channel.exact_viewers_up_to``, rounded above it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from livecommerce.bus import Delivery, Event, Listener, RoomBus
from livecommerce.channel.events import check_frame
from livecommerce.channel.passes import RoomPasses
from livecommerce.channel.presence import Presence, shown_count
from livecommerce.channel.sampling import ChatSampler
from livecommerce.channel.session import ChannelSession
from livecommerce.channel.window import Entry, WindowWriter, held, sample
from livecommerce.channel.wire import OutgoingFrame, WireFormat
from livecommerce.config import ChannelSettings
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.hub")
# What a hub built without settings does: write at the end of each tick, never sample.
UNHELD = ChannelSettings(write_delay_ms=0.0, sampling_chat_rate=0.0)


@dataclass(eq=False)
class RoomChannel:
    room_id: str
    listener: Listener
    sampler: ChatSampler
    passes: RoomPasses
    sessions: set[ChannelSession] = field(default_factory=set)
    # The same sessions indexed, so a window only viewers' sessions need not see (all of
    # its chat sampled away) is written to the few others without a pass over everyone.
    privileged: set[ChannelSession] = field(default_factory=set)
    by_user: dict[str, set[ChannelSession]] = field(default_factory=dict)
    viewers: int = -1
    likes: int = 0
    # Events of the current write window, not yet written.
    window: list[Entry] = field(default_factory=list)


class ChannelHub:
    """Local fan-out of room events to this node's sessions."""

    def __init__(
        self,
        bus: RoomBus,
        presence: Presence,
        viewers_interval_s: float,
        *,
        settings: ChannelSettings = UNHELD,
    ) -> None:
        self._bus = bus
        self._presence = presence
        self._viewers_interval_s = viewers_interval_s
        self._settings = settings
        self._write_delay_s = settings.write_delay_ms / 1000
        self._rooms: dict[str, RoomChannel] = {}
        self._lock = asyncio.Lock()
        self._tasks = Supervisor(logger=log)
        self._held_rooms: list[RoomChannel] = []

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

    async def drain_sessions(self, code: int, reason: str, timeout_s: float) -> None:
        """Stop every local session reading frames; each closes with ``code`` as soon as
        the frame it is handling has its answer written (a buy in the batcher gets its
        ``buy_result`` before the close). Sessions still busy after ``timeout_s`` are
        closed as they are. Returns once every session has closed."""
        sessions = [session for room in self._rooms.values() for session in room.sessions]
        for session in sessions:
            session.drain(code, reason)
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*(session.close_started() for session in sessions))
        except TimeoutError:
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
        """The room total as shown to clients: the last total this node heard (its local
        count before the first report), rounded above ``channel.exact_viewers_up_to``."""
        room = self._rooms.get(room_id)
        if room is None:
            return 0
        total = room.viewers if room.viewers >= 0 else _audience(room)
        return shown_count(total, self._settings.exact_viewers_up_to)

    def sampling(self, room_id: str) -> bool:
        """Whether this node samples the room's viewer chat now."""
        room = self._rooms.get(room_id)
        return room is not None and room.sampler.active

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
                sampler = ChatSampler(
                    threshold=self._settings.sampling_chat_rate,
                    per_s=self._settings.viewer_chat_rate,
                )
                passes = RoomPasses(self._write_delay_s)
                room = RoomChannel(room_id, listener, sampler, passes)
                await self._bus.listen(listener)
                self._rooms[room_id] = room
            room.sessions.add(session)
            room.passes.add(session)
            if session.privileged:
                room.privileged.add(session)
            if session.user is not None:
                room.by_user.setdefault(session.user, set()).add(session)
            if room.sampler.active and not session.privileged:
                session.deliver(self._sampling_frame(True))

    async def leave(self, session: ChannelSession) -> None:
        async with self._lock:
            room = self._rooms.get(session.room_id)
            if room is None or session not in room.sessions:
                return
            room.sessions.discard(session)
            room.passes.discard(session)
            room.privileged.discard(session)
            if session.user is not None:
                same_user = room.by_user.get(session.user, set())
                same_user.discard(session)
                if not same_user:
                    room.by_user.pop(session.user, None)
            if room.sessions:
                return
            del self._rooms[session.room_id]
            room.passes.stop()
            await self._bus.unlisten(room.listener)
        with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
            await self._presence.report(session.room_id, 0)

    def broadcast_local(self, room_id: str, message: Event) -> None:
        """Send a frame to this node's sessions of the room only (in the room's current
        write window); EventError if the event registry does not describe it."""
        check_frame(message)
        room = self._rooms.get(room_id)
        if room is not None:
            self._hold(room, held(OutgoingFrame(dict(message))))

    def _on_event(self, room_id: str, delivery: Delivery) -> None:
        room = self._rooms.get(room_id)
        if room is None or (delivery.staff and not room.privileged):
            return  # a staff event on a node where none of the room's staff is connected
        event = delivery.event
        if delivery.type == "likes":
            total = event.get("total")
            if not isinstance(total, int) or total <= room.likes:
                return  # totals from several nodes may cross; never show a smaller one
            room.likes = total
        frame = OutgoingFrame(dict(event))
        self._hold(room, held(frame, delivery if delivery.routed else None))

    def _on_gap(self, room_id: str) -> None:
        """The bus may have lost events: tell clients to resume from their last id."""
        self.broadcast_local(room_id, {"type": "resync"})

    async def report_viewers(self) -> None:
        """Report every local room's count and broadcast totals that changed as shown; end
        sampling in rooms that went quiet."""
        exact_up_to = self._settings.exact_viewers_up_to
        for room in list(self._rooms.values()):
            if room.sampler.active and not room.window:
                self._write_held(room)  # a room gone quiet: sampling may end meanwhile
            try:
                count = await self._presence.report(room.room_id, _audience(room))
            except STORE_UNAVAILABLE_ERRORS:
                continue
            before = shown_count(room.viewers, exact_up_to) if room.viewers >= 0 else -1
            room.viewers = count.total
            shown = shown_count(count.total, exact_up_to)
            if shown != before:
                self.broadcast_local(room.room_id, {"type": "viewers", "count": shown})

    def _hold(self, room: RoomChannel, entry: Entry) -> None:
        if not room.window:
            if not self._held_rooms:
                loop = asyncio.get_running_loop()
                if self._write_delay_s > 0:
                    loop.call_later(self._write_delay_s, self._write_all_held)
                else:
                    loop.call_soon(self._write_all_held)
            self._held_rooms.append(room)
        room.window.append(entry)

    def _write_all_held(self) -> None:
        rooms, self._held_rooms = self._held_rooms, []
        for room in rooms:
            self._write_held(room)

    def _write_held(self, room: RoomChannel) -> None:
        entries, room.window = room.window, []
        if self._rooms.get(room.room_id) is not room:
            return  # the room's last session left meanwhile
        if room in self._held_rooms:
            self._held_rooms.remove(room)  # written now, not again at the window's end
        was_sampling = room.sampler.active
        entries = sample(entries, room.sampler)
        if room.sampler.active != was_sampling:
            frame = self._sampling_frame(room.sampler.active)
            for session in room.sessions:
                if not session.privileged:
                    session.deliver(frame)
        if not entries:
            return
        writer = WindowWriter(entries)
        if writer.reaches_viewers():
            room.passes.close(writer)
            return
        named = (s for user in writer.named_users for s in room.by_user.get(user, ()))
        room.passes.close(writer, only=list(dict.fromkeys([*room.privileged, *named])))

    def _sampling_frame(self, on: bool) -> OutgoingFrame:
        message = {"type": "chat_sampling", "on": on, "per_s": self._settings.viewer_chat_rate}
        check_frame(message)
        return OutgoingFrame(message)


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
