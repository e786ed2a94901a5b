"""An encoded frame as the relay passes it around: one ``av.Packet`` shared by all viewers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """A complete frame ready for an aiortc sender's ``pack()`` (which only reads it).

    ``payloads`` are its RTP payloads, cut once by the relay for every viewer (the
    batched fan-out sends them; aiortc's own send loop packs ``packet`` itself).
    """

    packet: av.Packet[Any]
    keyframe: bool
    size: int
    pts: int
    payloads: tuple[bytes, ...] = ()

    @classmethod
    def build(
        cls,
        data: bytes,
        pts: int,
        time_base: Fraction,
        keyframe: bool,
        packetize: Callable[[av.Packet[Any]], tuple[bytes, ...]] | None = None,
    ) -> EncodedFrame:
        """The frame of ``data``; ``packetize`` cuts its RTP payloads (none if not given)."""
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = time_base
        payloads = packetize(packet) if packetize is not None else ()
        return cls(packet, keyframe, len(data), pts, payloads)

    def retimed(self, pts: int) -> EncodedFrame:
        """A copy at another timestamp (for one viewer's catch-up burst), same payloads."""
        time_base = self.packet.time_base
        assert time_base is not None
        packet = av.Packet(bytes(self.packet))
        packet.pts = pts
        packet.time_base = time_base
        return EncodedFrame(packet, self.keyframe, self.size, pts, self.payloads)
