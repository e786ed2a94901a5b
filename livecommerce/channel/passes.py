"""A room's write passes: its closed write windows written to each local session, a
slice of sessions per event-loop tick.

Writing a window to a room costs one send per socket: about 140 ms for 10,000 sockets
on the development machine. A pass writes ``PASS_SLICE`` sessions at a time and lets
the event loop read the bus in between. A window that closes meanwhile joins the pass:
the sessions not reached yet get it in the same write as the windows before it, the
others in the next pass, ``channel.write_delay_ms`` after this one ends. A line thus
waits for about one pass at most, where it used to wait for the rest of the pass under
way and then for its socket's turn in the next.

Each session remembers the last window written to it, and a write holds every closed
window after that one, in order, so each session still sees the room's events in bus
order. A window only the room's staff and the users it names get anything of is
written to them at once when no pass is under way or waiting; otherwise it joins the
chain like any other.
"""

from __future__ import annotations

import asyncio
import enum
import logging

from livecommerce.channel.session import ChannelSession
from livecommerce.channel.window import WindowRun, WindowWriter

log = logging.getLogger("livecommerce.hub")
# Sessions written per event-loop tick (about 14 ms of sends here).
PASS_SLICE = 1000


class PassState(enum.Enum):
    idle = "idle"  # every session has every window
    running = "running"
    waiting = "waiting"  # some sessions lack a window; the next pass starts after the delay


class RoomPasses:
    """The windows of one room not yet written to all of its sessions, and the pass
    writing them."""

    def __init__(self, write_delay_s: float) -> None:
        self._write_delay_s = write_delay_s
        self._windows: list[WindowWriter] = []
        self._first_seq = 1  # the number of _windows[0]
        self._closed_seq = 0  # the number of the last window closed
        self._written: dict[ChannelSession, int] = {}  # the last window each session got
        self._runs: dict[int, WindowRun] = {}  # by first window index, for the chain as is
        self._queue: list[ChannelSession] = []
        self._position = 0
        self._state = PassState.idle
        self._again = False
        self._next: asyncio.Handle | None = None

    @property
    def state(self) -> PassState:
        return self._state

    @property
    def pending_windows(self) -> int:
        """Closed windows some session has not got yet."""
        return len(self._windows)

    def add(self, session: ChannelSession) -> None:
        """A session joined: it gets the windows that close from now on."""
        self._written[session] = self._closed_seq

    def discard(self, session: ChannelSession) -> None:
        self._written.pop(session, None)

    def stop(self) -> None:
        """The room's last session left: nothing more to write."""
        if self._next is not None:
            self._next.cancel()
        self._next = None
        self._state = PassState.idle
        self._windows, self._runs, self._queue, self._written = [], {}, [], {}

    def close(self, window: WindowWriter, only: list[ChannelSession] | None = None) -> None:
        """Write a window that just closed; ``only``: the sessions that get anything of it,
        when the room's viewers get nothing."""
        if only is not None and self._state is PassState.idle:
            for session in only:
                window.write(session)
            return
        self._closed_seq += 1
        self._windows.append(window)
        self._runs.clear()
        if self._state is PassState.running:
            self._again = True  # the sessions already passed need it too
        elif self._state is PassState.idle:
            self._start()

    def _start(self) -> None:
        self._next = None
        self._state = PassState.running
        self._queue = list(self._written)
        self._position = 0
        self._write_slice()

    def _write_slice(self) -> None:
        self._next = None
        end = min(self._position + PASS_SLICE, len(self._queue))
        for session in self._queue[self._position : end]:
            try:
                self._write(session)
            except Exception:  # one socket's failure must not stop the room's fan-out
                log.exception("writing to a channel session failed")
        self._position = end
        loop = asyncio.get_running_loop()
        if end < len(self._queue):
            self._next = loop.call_soon(self._write_slice)
            return
        self._queue = []
        self._trim()
        if self._again:
            self._again = False
            self._state = PassState.waiting
            self._next = loop.call_later(self._write_delay_s, self._start)
        else:
            self._state = PassState.idle

    def _write(self, session: ChannelSession) -> None:
        seq = self._written.get(session)
        if seq is None or seq == self._closed_seq:
            return  # left, or joined after the last window closed
        self._written[session] = self._closed_seq
        start = seq + 1 - self._first_seq
        if start == len(self._windows) - 1:
            self._windows[start].write(session)
            return
        run = self._runs.get(start)
        if run is None:
            run = self._runs[start] = WindowRun(self._windows[start:])
        run.write(session)

    def _trim(self) -> None:
        """Drop the windows every session has."""
        lowest = min(self._written.values(), default=self._closed_seq)
        done = lowest + 1 - self._first_seq
        if done > 0:
            del self._windows[:done]
            self._first_seq += done
            self._runs.clear()
