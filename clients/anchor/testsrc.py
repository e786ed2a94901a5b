"""A synthetic source: a moving bar over a gradient, and a stereo tone (left/right differ)."""

from __future__ import annotations

import asyncio
import math
import struct
import time
from fractions import Fraction

from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
from av import AudioFrame, VideoFrame

AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms


class PatternVideoTrack(VideoStreamTrack):
    """``width``x``height`` frames at 30 fps; a bright bar moves across a gradient."""

    def __init__(self, width: int = 640, height: int = 360) -> None:
        super().__init__()
        if width % 2 or height % 2:
            raise ValueError("width and height must be even")
        self.width = width
        self.height = height
        self._count = 0
        gradient = bytes((x * 255) // max(width - 1, 1) for x in range(width))
        self._luma_rows = gradient * height
        self._chroma = bytes([128]) * ((width // 2) * (height // 2))

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        bar = (self._count * 8) % self.width
        luma = bytearray(self._luma_rows)
        bar_width = max(self.width // 16, 2)
        for row in range(0, self.height):
            start = row * self.width + bar
            luma[start : start + min(bar_width, self.width - bar)] = b"\xeb" * min(
                bar_width, self.width - bar
            )
        self._fill(frame, bytes(luma))
        self._count += 1
        frame.pts = pts
        frame.time_base = time_base
        return frame

    def _fill(self, frame: VideoFrame, luma: bytes) -> None:
        planes = frame.planes
        for plane, data, width in (
            (planes[0], luma, self.width),
            (planes[1], self._chroma, self.width // 2),
            (planes[2], self._chroma, self.width // 2),
        ):
            if plane.line_size == width:
                plane.update(data)
            else:
                rows = len(data) // width
                padded = b"".join(
                    data[r * width : (r + 1) * width].ljust(plane.line_size, b"\x00")
                    for r in range(rows)
                )
                plane.update(padded)


class ToneAudioTrack(AudioStreamTrack):
    """20 ms stereo frames: 440 Hz on the left, 660 Hz on the right."""

    def __init__(self) -> None:
        super().__init__()
        self._sample = 0
        period = AUDIO_RATE  # one second of samples, repeated
        left = [int(8000 * math.sin(2 * math.pi * 440 * i / AUDIO_RATE)) for i in range(period)]
        right = [int(8000 * math.sin(2 * math.pi * 660 * i / AUDIO_RATE)) for i in range(period)]
        interleaved = [v for pair in zip(left, right, strict=True) for v in pair]
        self._second = struct.pack(f"<{len(interleaved)}h", *interleaved)

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if hasattr(self, "_timestamp"):
            self._timestamp += AUDIO_SAMPLES
            wait = self._start + (self._timestamp / AUDIO_RATE) - time.time()
            await asyncio.sleep(wait)
        else:
            self._start = time.time()
            self._timestamp = 0
        frame = AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
        offset = (self._timestamp % AUDIO_RATE) * 4
        chunk = self._second[offset : offset + AUDIO_SAMPLES * 4]
        if len(chunk) < AUDIO_SAMPLES * 4:
            chunk += self._second[: AUDIO_SAMPLES * 4 - len(chunk)]
        frame.planes[0].update(chunk)
        frame.pts = self._timestamp
        frame.sample_rate = AUDIO_RATE
        frame.time_base = Fraction(1, AUDIO_RATE)
        return frame
