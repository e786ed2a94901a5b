"""Cutting a frame into RTP payloads once, for every viewer of a track.

aiortc's encoders' ``pack()`` does it per sender; the payloads do not depend on
the viewer (SSRC, sequence numbers, timestamps, payload type and header
extensions live in the RTP header), so the relay packs each frame once. For VP8
the payload descriptor carries a picture id that rises by one per frame packed:
packed once, every viewer sees the publisher's frames numbered in order, and a
late joiner's catch-up burst (the same frames again) keeps their numbers.
"""

from __future__ import annotations

from typing import Any

import av
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters


class Packetizer:
    """RTP payloads of one track's frames, in the codec's packetization."""

    def __init__(self, mime_type: str, clock_rate: int) -> None:
        channels = 2 if mime_type.lower() == "audio/opus" else None
        codec = RTCRtpCodecParameters(mimeType=mime_type, clockRate=clock_rate, channels=channels)
        self._encoder = get_encoder(codec)  # only its pack() runs: nothing is encoded

    def payloads(self, packet: av.Packet[Any]) -> tuple[bytes, ...]:
        """The frame's payloads in order (empty for a frame with nothing to send)."""
        payloads, _ = self._encoder.pack(packet)
        return tuple(payloads)
