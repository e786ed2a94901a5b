"""The track a viewer's sender reads: encoded frames from a bounded queue.

Overflow policy (video): when the queue is full the viewer is behind; every
queued frame is dropped and so is every later frame up to the next keyframe,
because a delta frame without its references cannot be decoded. Audio frames
are all independent, so audio drops only the backlog. Neither ever blocks the
relay: ``offer()`` is synchronous and O(1).

A track takes frames only once its sender has started reading (the viewer's
connection is up): it then starts from the freshest group of pictures rather
than from whatever piled up while ICE and DTLS were connecting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.frames import EncodedFrame
from media.stats import MediaCounters, TrackOutStats

if TYPE_CHECKING:
    from media.fanout import ViewerSink


class PacketTrack(MediaStreamTrack):
    """A track of ``av.Packet``s; aiortc's sender packetizes them without encoding."""

    def __init__(
        self,
        kind: str,
        max_frames: int,
        on_keyframe_wanted: Callable[[], None] = lambda: None,
        on_start: Callable[[PacketTrack], None] = lambda track: None,
        counters: MediaCounters | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.stats = TrackOutStats()
        self._counters = counters
        if counters is not None:
            counters.track_out(kind, self.stats)
        self._frames: deque[EncodedFrame] = deque()
        self._max_frames = max_frames
        self._limit = max_frames
        self._waiter: asyncio.Future[None] | None = None
        self._on_keyframe_wanted = on_keyframe_wanted
        self._on_start = on_start
        self.started = False
        # Set when the relay's fan-out sends this track's frames (media/fanout.py);
        # None when aiortc's sender reads them with recv().
        self.sink: ViewerSink | None = None
        self._ended = asyncio.Event()
        # A video viewer starts waiting: its first frame must be a keyframe.
        self.waiting_for_keyframe = kind == "video"

    @property
    def queued(self) -> int:
        return len(self._frames)

    def offer(self, frame: EncodedFrame) -> None:
        """Queue a frame for this viewer, applying the overflow policy."""
        if not self.started or self.readyState != "live":
            return
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                self.stats.frames_dropped += 1
                return
            self.waiting_for_keyframe = False
        if len(self._frames) >= self._limit:
            self.stats.frames_dropped += len(self._frames)
            self._frames.clear()
            if self.kind == "video" and not frame.keyframe:
                self.stats.frames_dropped += 1
                self.waiting_for_keyframe = True
                self._on_keyframe_wanted()
                return
        self._frames.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def start(self) -> None:
        """Begin taking frames (the first ``recv()`` does this)."""
        if not self.started:
            self.started = True
            self._on_start(self)

    def attach(self, sink: ViewerSink) -> None:
        """From now on the relay's fan-out sends this track's frames through ``sink``;
        starts the track (its catch-up burst is queued and flushed at once)."""
        self.sink = sink
        self.start()

    def take_all(self) -> list[EncodedFrame]:
        """Every queued frame, oldest first, for the fan-out to send."""
        frames = list(self._frames)
        self._frames.clear()
        self._limit = self._max_frames
        self.stats.frames_out += len(frames)
        self.stats.bytes_out += sum(frame.size for frame in frames)
        return frames

    async def wait_ended(self) -> None:
        """Return once the track is stopped."""
        await self._ended.wait()

    def preload(self, frames: list[EncodedFrame]) -> None:
        """Start with a catch-up burst (a keyframe first); the bound grows until it drains."""
        if not frames or not frames[0].keyframe:
            return
        self._frames.extend(frames)
        self._limit = self._max_frames + len(frames)
        self.waiting_for_keyframe = False

    def request_keyframe(self) -> None:
        """The viewer lost pictures (PLI/FIR): skip to the next keyframe and ask for one."""
        self.stats.keyframe_requests += 1
        if self.kind != "video":
            return
        if not self.waiting_for_keyframe:
            self.waiting_for_keyframe = True
            self._frames.clear()
        self._on_keyframe_wanted()

    async def recv(self) -> av.Packet[Any]:
        self.start()
        while not self._frames:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frame = self._frames.popleft()
        if not self._frames:
            self._limit = self._max_frames
        self.stats.frames_out += 1
        self.stats.bytes_out += frame.size
        return frame.packet

    def stop(self) -> None:
        super().stop()
        self.sink = None
        self._ended.set()
        self._frames.clear()
        if self._counters is not None:
            self._counters.retire_out(self.stats)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
