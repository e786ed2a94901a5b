"""H.264 (+ Opus) into fragmented MP4 segments for HLS, with PyAV's mp4 muxer.

The muxer (``frag_keyframe+empty_moov+default_base_moof``) writes the init
segment (``ftyp`` + ``moov``, with the ``avcC`` built from the keyframe's SPS
and PPS) and one fragment per group of pictures; it cannot put fragments in
files of their own, so :class:`~media.mp4_boxes.BoxSplitter` cuts its output
and fragments are gathered into segments of at least ``target_s`` seconds.
Nothing is decoded: each frame's bytes become one sample as they are.

Crash safety: a segment is written to ``seg_N.m4s.part``, renamed when it is
complete, and only then listed in ``index.m3u8`` (replaced atomically). A node
killed mid-segment loses that segment only.
"""

from __future__ import annotations

import contextlib
import errno
import io
from collections import deque
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Final

import av

from media.codec_config import h264_size, opus_head
from media.disk import DiskBudget
from media.mp4_boxes import Box, BoxSplitter, fragment_start
from media.playlist import (
    INIT_NAME,
    PLAYLIST_NAME,
    Segment,
    render,
    segment_name,
    write_atomically,
)

VIDEO_TRACK_ID: Final = 1
MP4_OPTIONS: Final = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
VIDEO_TIME_BASE: Final = Fraction(1, 90_000)
AUDIO_TIME_BASE: Final = Fraction(1, 48_000)


def _drop(boxes: list[Box]) -> None:
    return None


class _MuxerOutput(io.RawIOBase):
    """The file object PyAV writes to: bytes go to the box splitter."""

    def __init__(self, on_boxes: Callable[[list[Box]], None]) -> None:
        super().__init__()
        self._splitter = BoxSplitter()
        self._on_boxes = on_boxes

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        boxes = self._splitter.feed(chunk)
        if boxes:
            self._on_boxes(boxes)
        return len(chunk)


class Fmp4Writer:
    """One recording's HLS files in ``directory``; runs on the recorder's thread."""

    format = "hls"

    def __init__(
        self,
        directory: Path,
        *,
        target_s: float,
        with_audio: bool,
        budget: DiskBudget,
        on_segment: Callable[[Segment], None] = lambda segment: None,
    ) -> None:
        self.directory = directory
        self.segments: list[Segment] = []
        self.bytes_written = 0
        # Wall time (epoch seconds) of the first frame: the playlist's program date.
        self.started_at: float | None = None
        self._target_ticks = round(target_s * VIDEO_TIME_BASE.denominator)
        self._target_s = target_s
        self._with_audio = with_audio
        self._budget = budget
        self._on_segment = on_segment
        self._init = bytearray()
        self._moof: bytes | None = None
        self._keyframes: deque[int] = deque()
        self._last_video_pts = 0
        self._frame_ticks = 3000
        self._segment_file: BinaryIO | None = None
        self._segment_start: int | None = None
        self._container: Any = None
        self._streams: dict[str, Any] = {}

    def open(self, parameter_sets: bytes) -> None:
        """Start the muxer; ``parameter_sets`` is the first keyframe's SPS + PPS (Annex B)."""
        container: Any = av.open(
            _MuxerOutput(self._on_boxes), "w", format="mp4", options=MP4_OPTIONS
        )
        video = container.add_stream("h264")
        size = h264_size(parameter_sets) or (0, 0)
        video.width, video.height = size
        video.time_base = VIDEO_TIME_BASE
        video.codec_context.extradata = parameter_sets
        self._streams["video"] = video
        if self._with_audio:
            audio = container.add_stream("opus", rate=48_000)
            audio.time_base = AUDIO_TIME_BASE
            audio.codec_context.extradata = opus_head()
            self._streams["audio"] = audio
        container.start_encoding()
        self._container = container

    def write(self, kind: str, data: bytes, pts: int, keyframe: bool) -> None:
        """One frame at ``pts`` (90 kHz for video, 48 kHz for audio), as published."""
        stream = self._streams.get(kind)
        if stream is None:
            return
        if kind == "video":
            if pts > self._last_video_pts:
                self._frame_ticks = min(pts - self._last_video_pts, 9000)
            self._last_video_pts = pts
            if keyframe:
                self._keyframes.append(pts)
        packet = av.Packet(data)
        packet.stream = stream
        packet.pts = packet.dts = pts
        # the muxer may change the stream's time base (Matroska: 1 ms); PyAV rescales
        packet.time_base = VIDEO_TIME_BASE if kind == "video" else AUDIO_TIME_BASE
        packet.is_keyframe = keyframe
        self._container.mux(packet)

    def close(self) -> None:
        """Flush the last fragment, end the last segment, write the finished playlist."""
        if self._container is not None:
            container, self._container = self._container, None
            container.close()
        self._finish_segment(self._last_video_pts + self._frame_ticks)
        self._write_playlist(finished=True)

    def abandon(self) -> None:
        """Stop without another byte to disk (cap reached, disk full): close what is open."""
        container, self._container = self._container, None
        self._streams.clear()
        self._budget = DiskBudget(0)  # what the muxer still flushes is dropped below
        self._on_boxes = _drop  # type: ignore[method-assign]
        if container is not None:
            with contextlib.suppress(Exception):
                container.close()
        if self._segment_file is not None:
            self._segment_file.close()
            self._segment_file = None
            self._part(len(self.segments)).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._write_playlist(finished=True)

    # The muxer's output, box by box

    def _on_boxes(self, boxes: list[Box]) -> None:
        for box in boxes:
            if box.kind in (b"ftyp", b"moov"):
                self._init += box.data
                if box.kind == b"moov":
                    self._write_file(self.directory / INIT_NAME, bytes(self._init))
            elif box.kind == b"moof":
                self._moof = box.data
            elif box.kind == b"mdat" and self._moof is not None:
                self._on_fragment(self._moof, box.data)
                self._moof = None

    def _on_fragment(self, moof: bytes, mdat: bytes) -> None:
        start = fragment_start(moof, VIDEO_TRACK_ID)
        if start is not None:
            # (half a frame of slack: the muxer may round a timestamp by a tick)
            while self._keyframes and self._keyframes[0] <= start + self._frame_ticks // 2:
                self._keyframes.popleft()
        if self._segment_file is None:
            index = len(self.segments)
            self._segment_start = start or 0
            self._budget.take(len(moof) + len(mdat))
            self._segment_file = open(self._part(index), "wb")  # noqa: SIM115 (open across fragments)
        else:
            self._budget.take(len(moof) + len(mdat))
        self._segment_file.write(moof)
        self._segment_file.write(mdat)
        self.bytes_written += len(moof) + len(mdat)
        end = self._keyframes[0] if self._keyframes else None
        if end is not None and end - (self._segment_start or 0) >= self._target_ticks:
            self._finish_segment(end)

    def _finish_segment(self, end: int) -> None:
        segment_file, self._segment_file = self._segment_file, None
        if segment_file is None:
            return
        segment_file.close()
        index = len(self.segments)
        name = segment_name(index)
        self._part(index).replace(self.directory / name)
        duration = max(end - (self._segment_start or 0), 1) / VIDEO_TIME_BASE.denominator
        segment = Segment(name, duration)
        self.segments.append(segment)
        self._write_playlist(finished=False)
        self._on_segment(segment)

    def _write_playlist(self, *, finished: bool) -> None:
        if not self.segments:
            return
        text = render(
            self.segments, self._target_s, finished=finished, started_at=self.started_at
        ).encode()
        path = self.directory / PLAYLIST_NAME
        try:
            write_atomically(path, text)
        except OSError as exc:
            if exc.errno != errno.ENOSPC or not path.exists():
                raise
            # A full disk has no room for a second file, but the playlist's own page
            # holds the few bytes more a finished playlist needs: rewrite it in place.
            with path.open("r+b") as playlist:
                playlist.write(text)
                playlist.truncate()

    def _write_file(self, path: Path, data: bytes) -> None:
        self._budget.take(len(data))
        write_atomically(path, data)
        self.bytes_written += len(data)

    def _part(self, index: int) -> Path:
        return self.directory / (segment_name(index) + ".part")

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.segments)
