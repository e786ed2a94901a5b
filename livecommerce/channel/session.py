"""One WebSocket client of a room, as the hub sees it.

Frames go straight to the connection's transport as prebuilt bytes (no task,
no queue per client); the transport's own buffer is the per-connection
buffer, bounded by ``max_buffer``: a client whose unsent bytes exceed it is
closed with code 4408 (``slow_consumer``) instead of growing memory. Nothing
more is written to it; the close frame waits behind its backlog, and the
connection is aborted if the client has not read that far within
``SLOW_CLOSE_GRACE_S`` (a client that reads slowly learns why it was dropped,
one that never reads holds its bounded backlog a little longer).

Until the welcome snapshot is sent, frames from the bus wait in a bounded
``pending`` list so that none published during the snapshot is lost; chat
frames already in the snapshot are skipped when it is flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from enum import Enum
from typing import Protocol

from livecommerce.channel.chat import message_id_order
from livecommerce.channel.events import check_frame
from livecommerce.channel.wire import FrameBatch, OutgoingFrame, WireFormat
from livecommerce.errors import ErrorCode

MAX_PENDING_FRAMES = 1000
# How long a dropped slow client has to read its backlog and the 4408 close frame.
SLOW_CLOSE_GRACE_S = 5.0


class Connection(Protocol):
    """The socket under a session."""

    def write(self, data: bytes) -> None:
        """Queue bytes on the transport without waiting."""

    def buffered_bytes(self) -> int:
        """Bytes written but not yet sent."""

    def is_closing(self) -> bool: ...

    async def close(self, code: int, reason: str) -> None:
        """Send a close frame with ``code`` and end the connection."""

    def abort(self) -> None:
        """Drop the connection at once, discarding unsent bytes."""


class SessionState(Enum):
    joining = "joining"
    streaming = "streaming"
    closing = "closing"


def now_ms() -> int:
    return int(time.time() * 1000)


class ChannelSession:
    """A client's place in a room: identity, wire format, outgoing frames, timers."""

    def __init__(
        self,
        *,
        connection: Connection,
        wire: WireFormat,
        room_id: str,
        user: str | None,
        role: str | None,
        privileged: bool,
        max_buffer: int,
    ) -> None:
        self.connection = connection
        self.wire = wire
        self.room_id = room_id
        self.user = user
        self.role = role
        self.privileged = privileged
        self.state = SessionState.joining
        self.close_code: int | None = None
        self._max_buffer = max_buffer
        self._pending: list[OutgoingFrame] = []
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._close_task: asyncio.Task[None] | None = None
        # A frame taken from the socket is being handled (its answer not yet written).
        self._busy = False
        # A drain's close (code, reason), waiting for the frame being handled.
        self._drain: tuple[int, str] | None = None
        self._close_started = asyncio.Event()

    def deliver(self, frame: OutgoingFrame) -> None:
        """Send a frame now, or hold it until the welcome snapshot is out."""
        if self.state is SessionState.streaming:
            self._write(frame.frame(self.wire))
        elif self.state is SessionState.joining:
            if len(self._pending) >= MAX_PENDING_FRAMES:
                self.drop_slow()
                return
            self._pending.append(frame)

    def deliver_batch(self, batch: FrameBatch) -> None:
        """Send several frames in one write (or hold each until the welcome is out)."""
        if self.state is SessionState.streaming:
            self._write(batch.joined(self.wire))
        else:
            for frame in batch.frames:
                self.deliver(frame)

    def start_streaming(self, welcome: OutgoingFrame, last_chat_id: str | None) -> None:
        """Send the welcome, then what arrived meanwhile minus chat it already holds."""
        if self.state is not SessionState.joining:
            return
        self._write(welcome.frame(self.wire))
        self.state = SessionState.streaming
        pending, self._pending = self._pending, []
        seen = message_id_order(last_chat_id) if last_chat_id else None
        for frame in pending:
            message = frame.message
            is_chat = message.get("type") == "chat"
            if is_chat and seen is not None and message_id_order(str(message["id"])) <= seen:
                continue
            self._write(frame.frame(self.wire))

    def send(self, message: Mapping[str, object]) -> None:
        """Send a frame meant for this client only; EventError (nothing sent) if the
        event registry does not describe it."""
        check_frame(message)
        self.deliver(OutgoingFrame(dict(message)))

    def _write(self, data: bytes) -> None:
        if self.state is SessionState.closing or self.connection.is_closing():
            return
        if self.connection.buffered_bytes() > self._max_buffer:
            self.drop_slow()
            return
        self.connection.write(data)

    def schedule(self, key: str, at_ms: int, frame: OutgoingFrame) -> None:
        """Deliver ``frame`` at ``at_ms`` (replacing any timer of the same key)."""
        self.cancel(key)
        if self.state is SessionState.closing:
            return
        delay = max(0.0, (at_ms - now_ms()) / 1000)
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._fire, key, frame)

    def end_at(self, key: str, at_ms: int, error: ErrorCode) -> None:
        """At ``at_ms``, :meth:`end_with` ``error`` (a timer like :meth:`schedule`'s)."""
        self.cancel(key)
        if self.state is SessionState.closing:
            return
        delay = max(0.0, (at_ms - now_ms()) / 1000)
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self.end_with, error)

    def end_with(self, error: ErrorCode, message: str | None = None) -> None:
        """Tell the client why in an ``error`` frame, then close with the error's close code."""
        if self.state is SessionState.closing:
            return
        self.send({"type": "error", "code": error.name, "message": message or error.spec.message})
        self.close(error.spec.close_code, error.name)

    def cancel(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _fire(self, key: str, frame: OutgoingFrame) -> None:
        self._timers.pop(key, None)
        self.deliver(frame)

    @property
    def closing(self) -> bool:
        return self.state is SessionState.closing

    def drop_slow(self) -> None:
        """Close a client that cannot keep up: its buffer is full, so the close frame
        (code 4408) is queued behind it, and the connection is aborted unless the
        client reads that far within ``SLOW_CLOSE_GRACE_S``."""
        if self.state is SessionState.closing:
            return
        self.close(ErrorCode.slow_consumer.spec.close_code, "too slow")
        asyncio.get_running_loop().call_later(SLOW_CLOSE_GRACE_S, self.connection.abort)

    def take_frame(self) -> bool:
        """A frame came off the socket: True when this session handles it (call
        :meth:`frame_done` after its answer), False once it is closing or draining (the
        frame is left unanswered and nothing more is read)."""
        if self.state is SessionState.closing or self._drain is not None:
            return False
        self._busy = True
        return True

    def frame_done(self) -> None:
        """The frame taken is answered (its answer written); a drain waiting for it
        closes the session now, behind that answer."""
        self._busy = False
        if self._drain is not None:
            self.close(*self._drain)

    def drain(self, code: int, reason: str) -> None:
        """Take no more frames and close with ``code`` once the frame being handled has
        its answer written: at once when none is (a node draining: answers of frames
        already read go out before the close, so a buyer need not send again)."""
        if self.state is SessionState.closing or self._drain is not None:
            return
        self._drain = (code, reason)
        if not self._busy:
            self.close(code, reason)

    async def close_started(self) -> None:
        """Wait until :meth:`close` runs (a drain waits for the frame being handled)."""
        await self._close_started.wait()

    def close(self, code: int, reason: str) -> None:
        """Stop sending and close the socket with ``code`` (idempotent)."""
        if self.state is SessionState.closing:
            return
        self._close_started.set()
        self.state = SessionState.closing
        self.close_code = code
        self._pending = []
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._close_task = asyncio.get_running_loop().create_task(
            self.connection.close(code, reason), name=f"close-session-{self.room_id}"
        )

    async def wait_closed(self) -> None:
        """Wait for a close started by :meth:`close` (the session's owner calls this)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._close_task is not None:
            with contextlib.suppress(Exception):
                await self._close_task
