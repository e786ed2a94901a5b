"""An encoded frame as the relay passes it around: one ``av.Packet`` shared by all viewers."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """A complete frame ready for an aiortc sender's ``pack()`` (which only reads it)."""

    packet: av.Packet[Any]
    keyframe: bool
    size: int
    pts: int

    @classmethod
    def build(cls, data: bytes, pts: int, time_base: Fraction, keyframe: bool) -> EncodedFrame:
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = time_base
        return cls(packet, keyframe, len(data), pts)

    def retimed(self, pts: int) -> EncodedFrame:
        """A copy at another timestamp (for one viewer's catch-up burst)."""
        time_base = self.packet.time_base
        assert time_base is not None
        return EncodedFrame.build(bytes(self.packet), pts, time_base, self.keyframe)
