"""A file as a live source: its encoded packets, looped and paced, with no re-encoding.

Works when the file's video is VP8 or H.264 and its audio Opus (what WebRTC
carries); H.264 from MP4/MKV is converted to Annex B (start codes), which is
what aiortc's packetizer expects. Each track demuxes its own stream of the file
and paces packets on a clock shared by both, so audio and video stay together
across loops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

PASSTHROUGH = {"vp8": "video/VP8", "h264": "video/H264", "opus": "audio/opus"}


class UnsupportedFileError(ValueError):
    """The file cannot be sent without re-encoding."""


class SharedClock:
    """The start time both tracks of one file pace against."""

    def __init__(self) -> None:
        self.start: float | None = None

    def origin(self) -> float:
        if self.start is None:
            self.start = time.monotonic()
        return self.start


def probe(path: Path) -> dict[str, str]:
    """``{kind: mime type}`` of the file's first audio and video streams we can pass through."""
    with av.open(str(path)) as container:
        found: dict[str, str] = {}
        for stream in container.streams:
            if stream.type not in ("audio", "video") or stream.type in found:
                continue
            name = stream.codec_context.name
            if name not in PASSTHROUGH:
                raise UnsupportedFileError(
                    f"{path.name}: {stream.type} codec {name!r} cannot be sent as is"
                    " (VP8 or H.264 video and Opus audio can)"
                )
            found[stream.type] = PASSTHROUGH[name]
        if not found:
            raise UnsupportedFileError(f"{path.name} has no audio or video stream")
        return found


class FilePacketTrack(MediaStreamTrack):
    """One stream of a file as ``av.Packet``s, forever."""

    def __init__(self, path: Path, kind: str, clock: SharedClock) -> None:
        super().__init__()
        self.kind = kind
        self._path = path
        self._clock = clock
        self._packets: Iterator[tuple[float, av.Packet[Any]]] = self._looped_packets()

    def _looped_packets(self) -> Iterator[tuple[float, av.Packet[Any]]]:
        """Packets with the second at which each is due, looping with rising timestamps."""
        loop = 0
        while True:
            with av.open(str(self._path)) as container:
                length_s = (container.duration or 0) / 1_000_000
                stream = next(s for s in container.streams if s.type == self.kind)
                annexb = None
                if stream.codec_context.name == "h264":
                    annexb = av.bitstream.BitStreamFilterContext("h264_mp4toannexb", stream)
                time_base = stream.time_base or Fraction(1, 1000)
                shift = round(loop * length_s / time_base)
                count = 0
                for packet in container.demux(stream):
                    if packet.pts is None or packet.size == 0:
                        continue
                    for out in annexb.filter(packet) if annexb is not None else [packet]:
                        out.pts = (out.pts or 0) + shift
                        out.time_base = time_base
                        count += 1
                        yield float(out.pts * time_base), out
                if count == 0 or length_s <= 0:
                    raise MediaStreamError(f"{self._path.name} has no {self.kind} packets")
            loop += 1

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        due_s, packet = next(self._packets)
        delay = self._clock.origin() + due_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        return packet
