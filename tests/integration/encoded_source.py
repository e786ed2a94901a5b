"""A publisher track that encodes its own frames and remembers each packet it sent.

aiortc's sender packetizes an ``av.Packet`` as it is (no encoding on its side),
so the bytes recorded here are exactly what went onto the wire: a recording
that holds the same payloads was not re-encoded.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Any

import av
from aiortc.mediastreams import MediaStreamTrack

from clients.anchor.testsrc import PatternVideoTrack
from media.codec_config import annexb_units

CODECS = {"video/h264": "libx264", "video/vp8": "libvpx"}


class EncodedVideoTrack(MediaStreamTrack):
    """30 fps frames of the test pattern, encoded here with a keyframe every ``gop`` frames."""

    kind = "video"

    def __init__(self, mime: str, width: int = 320, height: int = 240, gop: int = 30) -> None:
        super().__init__()
        self.mime = mime.lower()
        self._source = PatternVideoTrack(width, height)
        codec: Any = av.CodecContext.create(CODECS[self.mime], "w")
        codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
        codec.time_base = Fraction(1, 90_000)
        codec.framerate = Fraction(30, 1)
        codec.gop_size = gop
        codec.bit_rate = 400_000
        if self.mime == "video/h264":
            codec.profile = "Baseline"
            codec.options = {
                "tune": "zerolatency",
                "preset": "ultrafast",
                "bf": "0",
                "x264-params": f"keyint={gop}:min-keyint={gop}:repeat-headers=1",
            }
        else:
            codec.options = {
                "deadline": "realtime",
                "cpu-used": "8",
                "lag-in-frames": "0",
                "auto-alt-ref": "0",
            }
        self._codec = codec
        self.sent: list[bytes] = []
        self._pending: list[Any] = []

    async def recv(self) -> Any:
        while not self._pending:
            frame = await self._source.recv()
            frame.pts = frame.pts  # 90 kHz from VideoStreamTrack
            self._pending.extend(self._codec.encode(frame))
        packet = self._pending.pop(0)
        packet.time_base = Fraction(1, 90_000)
        self.sent.append(bytes(packet))
        return packet

    def stop(self) -> None:
        super().stop()
        self._source.stop()


def payload_hash(mime: str, data: bytes, *, length_prefixed: bool = False) -> str:
    """A frame's identity: VP8 bytes as they are; H.264 its NAL units without framing."""
    if mime.lower() != "video/h264":
        return hashlib.sha256(data).hexdigest()
    from media.codec_config import length_prefixed_units

    units = length_prefixed_units(data) if length_prefixed else annexb_units(data)
    digest = hashlib.sha256()
    for unit in units:
        digest.update(len(unit).to_bytes(4, "big") + unit)
    return digest.hexdigest()
