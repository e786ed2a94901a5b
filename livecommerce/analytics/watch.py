"""Watch time from channel presence: what each node saw, credited once in the store.

The node notes when each signed-in viewer's first socket in a room opened and its last
one closed (a user with two tabs is one span). Every ``analytics.watch_interval_s`` it
sends, for all its rooms in one pipeline (one round trip whatever the audience), each
user's spans since the last report as "so many ms ago", so the store's clock places
them. ``analytics_watch.lua`` credits only time not already credited by another node
or an earlier report, so a user connected to two nodes at once counts once, and a
reconnect (same node or another) adds only the time actually connected.

Anonymous viewers have no user id: they are not in watch time; they count in the
room's viewers (retention, peak) as sockets, as presence counts them. The anchor and
staff are not viewers and are not tracked.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from livecommerce.context import StoreContext
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.store.lua import ScriptArg, ScriptCall
from livecommerce.store.replies_analytics import AnalyticsWatchReply, WatchOutcome
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.analytics")


@dataclass
class _Open:
    sockets: int
    since: float  # monotonic s: when the span began, or the last report


@dataclass
class _RoomWatch:
    open: dict[str, _Open] = field(default_factory=dict)
    closed: list[tuple[str, float, float]] = field(default_factory=list)
    anonymous: int = 0

    def idle(self) -> bool:
        return not self.open and not self.closed and self.anonymous <= 0


class WatchTracker:
    """This node's viewers per room, reported every ``interval_s`` (when ``enabled``)."""

    def __init__(self, *, store: StoreContext, interval_s: float, enabled: bool = True) -> None:
        self._keys = store.keys
        self._scripts = store.scripts
        self._interval_s = interval_s
        self._enabled = enabled
        self._rooms: dict[str, _RoomWatch] = {}
        self._tasks = Supervisor(logger=log)

    def start(self) -> None:
        if self._enabled:
            self._tasks.every("watch-time", self._interval_s, self.flush, wait_first=True)

    async def stop(self) -> None:
        """Stop the loop, then report what is left (the spans of sockets closed last)."""
        await self._tasks.stop()
        if self._enabled:
            try:
                await self.flush()
            except STORE_UNAVAILABLE_ERRORS:
                log.warning("the last watch-time report was lost: the store did not answer")

    def joined(self, room_id: str, user: str | None) -> None:
        """A viewer's socket opened (``user`` None: anonymous)."""
        if not self._enabled:
            return
        room = self._rooms.setdefault(room_id, _RoomWatch())
        if user is None:
            room.anonymous += 1
            return
        held = room.open.get(user)
        if held is None:
            room.open[user] = _Open(1, time.monotonic())
        else:
            held.sockets += 1

    def left(self, room_id: str, user: str | None) -> None:
        """A viewer's socket closed."""
        room = self._rooms.get(room_id)
        if room is None:
            return
        if user is None:
            room.anonymous -= 1
            return
        held = room.open.get(user)
        if held is None:
            return
        held.sockets -= 1
        if held.sockets <= 0:
            del room.open[user]
            room.closed.append((user, held.since, time.monotonic()))

    async def flush(self) -> None:
        """Send every room's spans since the last report, in one pipeline. When the store
        does not answer, the spans are kept for the next report (the error is raised)."""
        now = time.monotonic()
        rooms: list[str] = []
        calls: list[ScriptCall] = []
        sent: dict[str, list[tuple[str, float, float]]] = {}
        for room_id, room in list(self._rooms.items()):
            args: list[ScriptArg] = []
            spans = sorted(room.closed + [(u, o.since, now) for u, o in room.open.items()])
            for user, start, end in spans:
                args += [user, _ago_ms(now, start), _ago_ms(now, end)]
            room.closed = []
            for held in room.open.values():
                held.since = now
            if room.idle():
                del self._rooms[room_id]
            if not args and room.anonymous <= 0:
                continue
            rooms.append(room_id)
            sent[room_id] = spans
            calls.append((self._script_keys(room_id), args))
        if not calls:
            return
        try:
            replies = await self._scripts.call_many(AnalyticsWatchReply, calls)
        except STORE_UNAVAILABLE_ERRORS:
            for room_id, spans in sent.items():
                room = self._rooms.setdefault(room_id, _RoomWatch())
                room.closed = spans + room.closed
            raise
        for room_id, reply in zip(rooms, replies, strict=True):
            if reply.outcome is WatchOutcome.ended:
                self._rooms.pop(room_id, None)

    def _script_keys(self, room_id: str) -> list[str]:
        keys = self._keys
        return [
            keys.room(room_id),
            keys.room_watch(room_id),
            keys.watch_spans(room_id),
            keys.analytics(room_id),
            keys.room_presence(room_id),
        ]


def _ago_ms(now: float, at: float) -> int:
    return max(0, round((now - at) * 1000))
