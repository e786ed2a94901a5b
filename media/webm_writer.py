"""VP8 (+ Opus) into WebM with PyAV's Matroska muxer, seekable once finished.

The muxer writes clusters (at most ~2 s, each starting at a keyframe) as they
fill and flushes every packet, so ``video.part.webm`` on disk always holds every
finished cluster. Closing writes the Cues (the seek index) and the Duration and
renames the file ``video.webm``. After a crash :func:`finalise_webm` copies the
packets of the part file into a new, indexed file (no decoding).
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import av

from media.codec_config import opus_head, vp8_size
from media.disk import DiskBudget

WEBM_NAME: Final = "video.webm"
PART_NAME: Final = "video.part.webm"
# Clusters of at most 2 s (the muxer starts a new one at a keyframe past this);
# every packet is flushed to the file, so a killed node loses at most one cluster.
WEBM_OPTIONS: Final = {"cluster_time_limit": "2000", "flush_packets": "1"}
VIDEO_TIME_BASE: Final = Fraction(1, 90_000)
AUDIO_TIME_BASE: Final = Fraction(1, 48_000)


class WebmWriter:
    """One recording's WebM file in ``directory``; runs on the recorder's thread."""

    format = "webm"

    def __init__(self, directory: Path, *, with_audio: bool, budget: DiskBudget) -> None:
        self.directory = directory
        self.bytes_written = 0
        self._with_audio = with_audio
        self._budget = budget
        self._container: Any = None
        self._streams: dict[str, Any] = {}
        self._part = directory / PART_NAME
        self._first_pts: int | None = None
        self._last_pts = 0
        self._counted = 0

    def open(self, keyframe: bytes) -> None:
        """Start the file at the first keyframe (its header gives the picture size)."""
        container: Any = av.open(str(self._part), "w", format="webm", options=WEBM_OPTIONS)
        video = container.add_stream("vp8")
        video.width, video.height = vp8_size(keyframe) or (0, 0)
        video.time_base = VIDEO_TIME_BASE
        self._streams["video"] = video
        if self._with_audio:
            audio = container.add_stream("opus", rate=48_000)
            audio.time_base = AUDIO_TIME_BASE
            audio.codec_context.extradata = opus_head()
            self._streams["audio"] = audio
        container.start_encoding()
        self._container = container

    def write(self, kind: str, data: bytes, pts: int, keyframe: bool) -> None:
        stream = self._streams.get(kind)
        if stream is None:
            return
        self._budget.take(len(data))
        self.bytes_written += len(data)
        if kind == "video":
            if self._first_pts is None:
                self._first_pts = pts
            self._last_pts = pts
        packet = av.Packet(data)
        packet.stream = stream
        packet.pts = packet.dts = pts
        # the muxer may change the stream's time base (Matroska: 1 ms); PyAV rescales
        packet.time_base = VIDEO_TIME_BASE if kind == "video" else AUDIO_TIME_BASE
        packet.is_keyframe = keyframe
        self._container.mux(packet)

    def close(self) -> None:
        """Write Cues and Duration, then give the file its final name."""
        container, self._container = self._container, None
        if container is None:
            return
        container.close()
        self._part.replace(self.directory / WEBM_NAME)

    def abandon(self) -> None:
        """Stop writing (cap reached, disk full); the part file is finalised on next start."""
        container, self._container = self._container, None
        self._streams.clear()
        if container is not None:
            with contextlib.suppress(Exception):
                container.close()

    @property
    def duration_s(self) -> float:
        if self._first_pts is None:
            return 0.0
        return (self._last_pts - self._first_pts) / VIDEO_TIME_BASE.denominator


def finalise_webm(directory: Path) -> float | None:
    """Index the part file a crash left (packets copied, nothing decoded); its duration.

    None when there is no part file or nothing readable in it.
    """
    part = directory / PART_NAME
    if not part.exists():
        return None
    target = directory / (WEBM_NAME + ".tmp")
    first: float | None = None
    last = 0.0
    try:
        with av.open(str(part)) as source, av.open(str(target), "w", format="webm") as out:
            mapping: dict[int, Any] = {}
            for stream in source.streams:
                mapping[stream.index] = out.add_stream_from_template(stream)
            try:
                for packet in source.demux():
                    if packet.dts is None or packet.pts is None or packet.size == 0:
                        continue
                    if packet.stream.type == "video" and packet.time_base is not None:
                        seconds = float(packet.pts * packet.time_base)
                        first = seconds if first is None else first
                        last = seconds
                    packet.stream = mapping[packet.stream.index]
                    out.mux(packet)
            except av.error.InvalidDataError:
                pass  # the cluster cut short by the crash: everything before it is kept
    except (av.error.FFmpegError, OSError):
        target.unlink(missing_ok=True)
        return None
    os.replace(target, directory / WEBM_NAME)
    part.unlink()
    return max(0.0, last - (first or 0.0))
