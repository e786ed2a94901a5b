"""Fan-out of one published track to many viewers, without decoding.

The publisher's receiver hands each encoded frame to :meth:`TrackRelay.push`
(see :func:`media.aiortc_patches.install_tap`); the relay wraps it once in an
``av.Packet``, cuts it into RTP payloads once (:mod:`media.packetize`), offers
that same frame to every viewer's bounded :class:`~media.track.PacketTrack`
and schedules its :class:`~media.fanout.FanOut`, which sends every viewer's
queued frames in one pass at the end of the tick.

Late joiners (video): the relay keeps the current group of pictures — the last
keyframe and every frame since — and a new viewer starts with it at once, its
timestamps squeezed into the last few milliseconds so the player catches up
instead of replaying seconds of old video. Publishers that honour PLI also get
a rate-limited keyframe request whenever a viewer waits for one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from fractions import Fraction
from typing import Final, Protocol

from media.codecs import is_keyframe
from media.fanout import FanOut
from media.frames import EncodedFrame
from media.keyframes import KeyframeRequester
from media.packetize import Packetizer
from media.stats import MediaCounters, TrackInStats
from media.track import PacketTrack

# Spacing of the catch-up burst's timestamps, in milliseconds.
CATCH_UP_STEP_MS: Final = 1


async def _no_upstream() -> None:
    return None


class FrameConsumer(Protocol):
    """A second consumer of a relay's encoded frames (the packager), beside the viewers.

    ``push`` runs on the event loop for every frame and must not block; ``close`` is
    called once when the relay closes (it may be called by other relays too).
    """

    def push(self, kind: str, frame: EncodedFrame) -> None: ...

    def new_source(self, kind: str) -> None:
        """Another publisher takes over the relay: video must restart at a keyframe."""
        ...

    def close(self) -> None: ...


class TrackRelay:
    """One published track (audio or video) and the viewers' tracks fed from it."""

    def __init__(
        self,
        kind: str,
        mime_type: str,
        clock_rate: int,
        *,
        queue_frames: int,
        gop_cache_frames: int,
        keyframe_interval_s: float,
        counters: MediaCounters | None = None,
    ) -> None:
        self.kind = kind
        self.mime_type = mime_type
        self.clock_rate = clock_rate
        self.stats = TrackInStats()
        self._counters = counters
        if counters is not None:
            counters.track_in(kind, self.stats)
        self._time_base = Fraction(1, clock_rate)
        self._queue_frames = queue_frames
        self._gop_cache_frames = gop_cache_frames
        self._gop: list[EncodedFrame] = []
        self._gop_valid = False
        self._viewers: set[PacketTrack] = set()
        self._packetizer = Packetizer(mime_type, clock_rate)
        self._fanout = FanOut(self._viewers)
        self._consumers: list[FrameConsumer] = []
        self._upstream: Callable[[], Awaitable[None]] = _no_upstream
        self._offset = 0
        self._last_pts: int | None = None
        self._rebase = False
        # The next frame is a new source's first: a PLI goes at once if it is no keyframe.
        self._fresh_source = True
        self._keyframes = KeyframeRequester(
            self._send_upstream, self._anyone_waiting, keyframe_interval_s
        )

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    def set_upstream(self, send_keyframe_request: Callable[[], Awaitable[None]]) -> None:
        """Where keyframe requests go: the current publisher's receiver."""
        self._upstream = send_keyframe_request

    def new_source(self) -> None:
        """A new publisher takes over: keep timestamps rising, wait for its first keyframe."""
        self._rebase = True
        self._fresh_source = True
        for consumer in self._consumers:
            consumer.new_source(self.kind)
        self._gop.clear()
        self._gop_valid = False
        for track in self._viewers:
            if self.kind == "video":
                track.waiting_for_keyframe = True
        if self.kind == "video" and self._viewers:
            self._keyframes.request()

    async def _send_upstream(self) -> None:
        self.stats.keyframe_requests_sent += 1
        await self._upstream()

    def _anyone_waiting(self) -> bool:
        return self.kind == "video" and any(t.waiting_for_keyframe for t in self._viewers)

    def push(self, data: bytes, timestamp: int) -> None:
        """A complete encoded frame from the publisher (runs on the event loop)."""
        if not data:
            return
        if self._rebase:
            self._rebase = False
            if self._last_pts is not None:
                # Resume one frame (~33 ms) after the last timestamp sent.
                self._offset = self._last_pts + self.clock_rate // 30 - timestamp
        pts = timestamp + self._offset
        self._last_pts = pts
        keyframe = is_keyframe(self.mime_type, data)
        if self._fresh_source:
            self._fresh_source = False
            if not keyframe and self._anyone_waiting():
                self._keyframes.request_now()
        frame = EncodedFrame.build(data, pts, self._time_base, keyframe, self._packetizer.payloads)
        self.stats.frames_in += 1
        self.stats.bytes_in += frame.size
        if keyframe and self.kind == "video":
            self.stats.keyframes_in += 1
        if self.kind == "video":
            self._cache(frame)
        for track in self._viewers:
            track.offer(frame)
        if self._viewers:
            self._fanout.schedule()
        for consumer in self._consumers:
            consumer.push(self.kind, frame)

    def add_consumer(self, consumer: FrameConsumer) -> None:
        """Give every later frame to ``consumer`` too (closed with the relay)."""
        self._consumers.append(consumer)

    def _cache(self, frame: EncodedFrame) -> None:
        if frame.keyframe:
            self._gop = [frame]
            self._gop_valid = True
        elif self._gop_valid:
            if len(self._gop) >= self._gop_cache_frames:
                # A group this long is not worth replaying; late joiners wait instead.
                self._gop.clear()
                self._gop_valid = False
            else:
                self._gop.append(frame)

    def subscribe(self) -> PacketTrack:
        """A new viewer's track; it starts with the current group of pictures when read."""
        track = PacketTrack(
            self.kind, self._queue_frames, self._keyframes.request, self._prime, self._counters
        )
        self._viewers.add(track)
        return track

    def _prime(self, track: PacketTrack) -> None:
        """A viewer starts reading: give it the current group of pictures, or ask for one."""
        if self.kind != "video" or track not in self._viewers:
            return
        if self._gop_valid and self._gop:
            track.preload(self._catch_up(self._gop))
            self._fanout.schedule()
        else:
            self._keyframes.request()

    def _catch_up(self, frames: list[EncodedFrame]) -> list[EncodedFrame]:
        step = max(1, self.clock_rate * CATCH_UP_STEP_MS // 1000)
        last = frames[-1].pts
        count = len(frames)
        return [
            frame if i == count - 1 else frame.retimed(last - (count - 1 - i) * step)
            for i, frame in enumerate(frames)
        ]

    def unsubscribe(self, track: PacketTrack) -> None:
        self._viewers.discard(track)
        track.stop()

    async def close(self) -> None:
        """End every viewer's track and stop asking for keyframes."""
        for track in list(self._viewers):
            track.stop()
        self._viewers.clear()
        self._gop.clear()
        consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.close()
        await self._keyframes.close()
        if self._counters is not None:
            self._counters.retire_in(self.stats)
