"""A recording of one publication: a consumer of the relays' encoded frames.

:meth:`Recorder.push` runs on the event loop for every frame the relays get
(:meth:`media.relay.TrackRelay.add_consumer`); it only fixes the timestamps and
queues the frame. A thread of the recorder's own muxes the queue into files
(:mod:`media.fmp4_writer` for H.264, :mod:`media.webm_writer` for VP8), so a slow
disk never delays a frame to a viewer. Nothing is decoded or re-encoded.

Timestamps: RTP clocks are 32-bit and start anywhere, and audio and video start
apart. The recording starts at the first video keyframe (t = 0); each track's
timestamps are unwrapped, and audio is placed by the arrival of its first frame
after that keyframe. A track whose time goes back (the same anchor reconnecting
onto the same relays) continues one frame after its last timestamp: the muxers
need rising timestamps.

Stops: the queue is bounded (``queue_frames``); if the writer falls that far
behind, or the disk cap is reached, or the disk is full, the recording stops
there with a reason (what is written stays playable) and the live stream goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from media.codec_config import h264_parameter_sets
from media.disk import DiskBudget, DiskCapError
from media.fmp4_writer import Fmp4Writer
from media.frames import EncodedFrame
from media.playlist import Segment
from media.webm_writer import WebmWriter

log = logging.getLogger("media.recorder")

STATE_NAME: Final = "recording.json"
LOCK_NAME: Final = "recording.lock"
WRAP: Final = 1 << 32
# One frame's duration, where a track's timestamps must be made to rise again.
STEP: Final = {"video": 3000, "audio": 960}


@dataclass(frozen=True)
class PackagerSettings:
    target_segment_s: float = 2.0
    # Frames the writer thread may fall behind before the recording stops (~10 s).
    queue_frames: int = 1000


@dataclass
class RecordingResult:
    """What a finished (or stopped) recording left on disk."""

    directory: Path
    format: str  # "hls" or "webm"
    duration_s: float = 0.0
    bytes_written: int = 0
    stopped: str | None = None  # why it stopped early: "disk_cap", "disk_full", ...
    segments: list[Segment] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU time of the writer thread (muxing and writing)


class _Writer(Protocol):
    format: str
    bytes_written: int

    def write(self, kind: str, data: bytes, pts: int, keyframe: bool) -> None: ...

    def close(self) -> None: ...

    def abandon(self) -> None: ...

    @property
    def duration_s(self) -> float: ...


def lock_directory(directory: Path) -> int | None:
    """An exclusive lock on a recording directory while a process records into it (the
    kernel drops it when the process dies, even by SIGKILL): its descriptor, or None when
    another recorder (this process or another) holds it. ``os.close`` releases it."""
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class _Unwrapper:
    """32-bit RTP timestamps made monotonic (a wrap adds 2^32)."""

    def __init__(self) -> None:
        self._last: int | None = None
        self._cycles = 0

    def __call__(self, value: int) -> int:
        last = self._last
        if last is not None:
            if value - last < -WRAP // 2:
                self._cycles += 1
            elif value - last > WRAP // 2:
                self._cycles -= 1
        self._last = value
        return value + self._cycles * WRAP


Item = tuple[str, bytes, int, bool] | None


class Recorder:
    """Records the frames of one publication into ``directory`` (created here).

    ``on_done`` runs once, on the event loop, when the files are complete (or the
    recording stopped); ``on_segment`` runs on the event loop for each HLS segment.
    """

    def __init__(
        self,
        directory: Path,
        video_mime: str,
        *,
        with_audio: bool,
        settings: PackagerSettings,
        budget: DiskBudget,
        on_done: Callable[[RecordingResult], None] = lambda result: None,
        on_segment: Callable[[Segment], None] = lambda segment: None,
    ) -> None:
        self.directory = directory
        self.video_mime = video_mime.lower()
        self.format = "hls" if self.video_mime == "video/h264" else "webm"
        self._settings = settings
        self._budget = budget
        self._with_audio = with_audio
        self._on_done = on_done
        self._on_segment = on_segment
        self._loop = asyncio.get_running_loop()
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=settings.queue_frames)
        self._done: asyncio.Future[RecordingResult] = self._loop.create_future()
        self._started_at: float | None = None
        self._started_wall: float | None = None
        self._unwrap = {"video": _Unwrapper(), "audio": _Unwrapper()}
        self._base: dict[str, int] = {}
        self._offset: dict[str, int] = {}
        self._last_pts: dict[str, int] = {}
        self._wait_keyframe = False
        self._closed = False
        self._stop_reason: str | None = None
        self.frames_dropped = 0
        self._writer: _Writer | None = None
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = lock_directory(directory)
        if lock is None:
            raise BlockingIOError(f"{directory} is being recorded by another recorder")
        self._lock = lock
        self._write_state("recording")
        self._thread = threading.Thread(
            target=self._run, name=f"recorder-{directory.name}", daemon=True
        )
        self._thread.start()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    @property
    def started_wall(self) -> float | None:
        """``time.time()`` when the first keyframe arrived: the wall clock of 0 s."""
        return self._started_wall

    @property
    def started_at(self) -> float | None:
        """``time.monotonic()`` when the first keyframe arrived (the recording's 0 s)."""
        return self._started_at

    # On the event loop

    def push(self, kind: str, frame: EncodedFrame) -> None:
        """A frame from a relay (non-blocking)."""
        if self._closed:
            return
        if kind == "video" and self._wait_keyframe:
            if not frame.keyframe:
                return  # a delta frame without its references would show garbage
            self._wait_keyframe = False
        if self._started_at is None:
            if kind != "video" or not frame.keyframe:
                return
            self._started_at = time.monotonic()
            self._started_wall = time.time()
        raw = self._unwrap[kind](frame.pts)
        if kind not in self._base:
            rate = 90_000 if kind == "video" else 48_000
            self._base[kind] = raw
            # Video starts the recording at 0; audio where its first frame arrived.
            late_s = time.monotonic() - self._started_at if kind == "audio" else 0.0
            self._offset[kind] = round(late_s * rate)
        pts = raw - self._base[kind] + self._offset[kind]
        last = self._last_pts.get(kind)
        if last is not None and pts <= last:
            # Time went back (a new source on the same relays, a reordered frame): the
            # muxers need rising timestamps, so this track continues one frame later.
            step = STEP[kind]
            self._offset[kind] += last + step - pts
            pts = last + step
        self._last_pts[kind] = pts
        try:
            self._queue.put_nowait((kind, bytes(frame.packet), pts, frame.keyframe))
        except queue.Full:
            self.frames_dropped += 1
            self.stop("writer_behind")

    def new_source(self, kind: str) -> None:
        """The same anchor reconnected onto the relays: video resumes at its next keyframe."""
        if kind == "video":
            self._wait_keyframe = True

    def stop(self, reason: str) -> None:
        """End the recording early (what is on disk stays); ``close`` ends it normally."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self.close()

    def close(self) -> None:
        """No more frames: the thread finishes the files (idempotent)."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except queue.Full:
                # Stopping: the frames still queued are not worth waiting for.
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    async def wait(self) -> RecordingResult:
        """The result, once the writer thread has finished."""
        return await asyncio.shield(self._done)

    # On the writer thread

    def _run(self) -> None:
        writer: _Writer | None = None
        stopped: str | None = None
        try:
            writer = self._write_all()
        except DiskCapError as exc:
            stopped = "disk_cap"
            log.warning("recording %s stopped: %s", self.directory.name, exc)
        except OSError as exc:
            stopped = "disk_full" if exc.errno == 28 else "write_failed"
            log.warning("recording %s stopped: %s", self.directory.name, exc)
        except Exception:
            stopped = "write_failed"
            log.exception("recording %s failed", self.directory.name)
        writer = writer or self._writer
        if stopped is not None and writer is not None:
            writer.abandon()
        result = RecordingResult(self.directory, self.format)
        if writer is not None:
            result.duration_s = writer.duration_s
            result.bytes_written = writer.bytes_written
            if isinstance(writer, Fmp4Writer):
                result.segments = list(writer.segments)
        result.stopped = stopped or self._stop_reason
        result.cpu_s = time.thread_time()
        self._write_state("stopped" if result.stopped else "done", result)
        os.close(self._lock)
        try:
            self._loop.call_soon_threadsafe(self._finish, result)
        except RuntimeError:  # the event loop closed first (a shutdown that did not wait)
            log.warning("recording %s finished after its event loop closed", self.directory.name)

    def _write_all(self) -> _Writer | None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            kind, data, pts, keyframe = item
            if self._writer is None:
                if kind != "video" or not keyframe:
                    continue
                self._writer = self._open(data)
                if self._writer is None:
                    continue
            self._writer.write(kind, data, pts, keyframe)
        writer = self._writer
        if writer is not None:
            writer.close()
        return writer

    def _open(self, keyframe: bytes) -> _Writer | None:
        if self.format == "hls":
            parameter_sets = h264_parameter_sets(keyframe)
            if parameter_sets is None:
                return None  # a keyframe without SPS/PPS: wait for one that has them
            fmp4 = Fmp4Writer(
                self.directory,
                target_s=self._settings.target_segment_s,
                with_audio=self._with_audio,
                budget=self._budget,
                on_segment=self._segment_done,
            )
            fmp4.started_at = self._started_wall
            fmp4.open(parameter_sets)
            return fmp4
        webm = WebmWriter(self.directory, with_audio=self._with_audio, budget=self._budget)
        webm.open(keyframe)
        return webm

    def _segment_done(self, segment: Segment) -> None:
        self._loop.call_soon_threadsafe(self._on_segment, segment)

    def _write_state(self, state: str, result: RecordingResult | None = None) -> None:
        """``recording.json``: what the next start needs to finalise a crashed recording."""
        record: dict[str, object] = {"state": state, "format": self.format}
        if result is not None:
            record.update(duration_s=result.duration_s, stopped=result.stopped)
        try:
            (self.directory / STATE_NAME).write_text(json.dumps(record))
        except OSError:
            log.warning("cannot write the state of recording %s", self.directory.name)

    def _finish(self, result: RecordingResult) -> None:
        if not self._done.done():
            self._done.set_result(result)
        try:
            self._on_done(result)
        except Exception:
            log.exception("recording end handler failed")
