"""Sending a track's frames to all its viewers in one pass per loop tick.

A relay used to wake one task per viewer for every video frame and every audio
packet, and each task cut the frame into RTP payloads again. Here the relay cuts
each frame once (:mod:`media.packetize`), queues it on every viewer's bounded
track as before (the overflow policy is the track's), and schedules one
:meth:`FanOut.flush` per tick: a plain loop over the viewers that, for each,
writes the RTP headers (its SSRC, sequence numbers, timestamp offset, payload
type and header extensions) in front of the shared payloads, SRTP-protects the
packets and hands them to :func:`media.udp_gso.send_batch` (one ``sendmsg``
per run of equal-size packets). No await, no task switch per viewer.

Each viewer keeps what aiortc's sender relies on: the retransmission history
(NACK, with RTX when negotiated: packets are parsed back only when asked for),
the counters of its RTCP sender reports, and its ``started``/``exited`` events
(its send task only waits for the track to end, see :mod:`media.sender`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from struct import Struct
from typing import TYPE_CHECKING, Any

from aiortc import RTCRtpSender, clock
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensions, HeaderExtensionsMap, RtpPacket
from aiortc.utils import random32

from media.aiortc_patches import (
    SenderState,
    record_sent,
    replace_history,
    rtp_route,
    sender_enabled,
)
from media.udp_gso import send_batch

if TYPE_CHECKING:
    from media.frames import EncodedFrame
    from media.track import PacketTrack

log = logging.getLogger("media.fanout")

RTP_HEADER = Struct("!BBHLL")
EXTENSION_HEADER = Struct("!HH")
# A probe abs-send-time: two viewers whose extension maps write it alike share a layout.
PROBE_ABS_SEND_TIME = 0x123456


class SentPacket(RtpPacket):
    """A sent packet as the retransmission history keeps it: its bytes, parsed back into
    an :class:`RtpPacket` only if a NACK asks for it (most never are)."""

    def __init__(self, sequence_number: int, data: bytes, extensions_map: HeaderExtensionsMap):
        self.sequence_number = sequence_number
        self._data = data
        self._map = extensions_map

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        parsed = RtpPacket.parse(self._data, self._map)
        self.__dict__.update(vars(parsed))
        return getattr(parsed, name)

    def serialize(self, extensions_map: HeaderExtensionsMap | None = None) -> bytes:
        if extensions_map is self._map:
            return self._data
        parsed = RtpPacket.parse(self._data, self._map)
        return parsed.serialize(extensions_map or HeaderExtensionsMap())


class SentHistory(dict[int, RtpPacket]):
    """A viewer's retransmission history as its sender reads it on a NACK (``get``), kept
    as the sent packets' bytes: a packet object is built only for the few asked for."""

    def __init__(self, extensions_map: HeaderExtensionsMap) -> None:
        super().__init__()
        self._map = extensions_map
        self.sent: list[bytes | None] = [None] * RTP_HISTORY_SIZE

    def get(self, key: int, default: Any = None) -> Any:
        data = self.sent[key] if 0 <= key < RTP_HISTORY_SIZE else None
        if data is None:
            return default
        return SentPacket(int.from_bytes(data[2:4], "big"), data, self._map)


class ViewerSink:
    """One viewer's RTP sender state, written to by :meth:`FanOut.flush`."""

    def __init__(self, sender: RTCRtpSender, codec: RTCRtpCodecParameters, state: SenderState):
        assert codec.payloadType is not None
        self._sender = sender
        self._payload_type = codec.payloadType
        self._ssrc = state.ssrc
        self._map = state.extensions_map
        self._history = SentHistory(self._map)
        replace_history(sender, self._history)
        self._mid = state.mid
        self._sequence_number = random_sequence_number()
        self._timestamp_origin = random32()
        self._octets = self._packets = 0
        # Viewers whose header extensions come out alike share one per flush.
        self.layout = self.extension(PROBE_ABS_SEND_TIME)

    def extension(self, abs_send_time: int) -> bytes:
        """The header extension block (with its header) of this viewer's packets."""
        values = HeaderExtensions()
        values.mid = self._mid
        values.abs_send_time = abs_send_time
        profile, value = self._map.set(values)
        if not value:
            return b""
        return EXTENSION_HEADER.pack(profile, len(value) >> 2) + value

    def send(self, frames: list[EncodedFrame], ntp: int, extension: bytes) -> None:
        """Send ``frames`` in order, each frame's last packet marked, with ``extension``
        (this flush's :meth:`extension` for the viewer's layout) in every header.
        Raises ``ConnectionError`` when the viewer is not connected."""
        if not sender_enabled(self._sender):
            return
        route = rtp_route(self._sender.transport)
        first = 0x90 if extension else 0x80
        protect, sent = route.protect, self._history.sent
        pack, payload_type, ssrc = RTP_HEADER.pack, self._payload_type, self._ssrc
        sequence_number = self._sequence_number
        datagrams: list[bytes] = []
        octets = 0
        timestamp = 0
        for frame in frames:
            payloads = frame.payloads
            timestamp = (self._timestamp_origin + frame.pts) & 0xFFFFFFFF
            last = len(payloads) - 1
            for index, payload in enumerate(payloads):
                marked = payload_type | 0x80 if index == last else payload_type
                data = pack(first, marked, sequence_number, timestamp, ssrc) + extension + payload
                sent[sequence_number % RTP_HISTORY_SIZE] = data
                datagrams.append(protect(data))
                octets += len(payload)
                sequence_number = (sequence_number + 1) & 0xFFFF
        if not datagrams:
            return
        self._sequence_number = sequence_number
        self._octets += octets
        self._packets += len(datagrams)
        send_batch(route.transport, datagrams, route.address)
        record_sent(
            self._sender,
            ntp_time=ntp,
            rtp_timestamp=timestamp,
            octets=self._octets,
            packets=self._packets,
        )


class FanOut:
    """Flushes the queued frames of a relay's viewers, at most once per loop tick."""

    def __init__(self, viewers: Collection[PacketTrack]) -> None:
        self._viewers = viewers
        self._scheduled = False

    def schedule(self) -> None:
        """Flush soon (once, however many frames arrive in this tick)."""
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send every attached viewer its queued frames; a viewer that cannot be sent to
        (not connected, or a failure) has its track stopped, which ends its sender."""
        self._scheduled = False
        ntp = clock.current_ntp_time()
        abs_send_time = (ntp >> 14) & 0x00FFFFFF
        extensions: dict[bytes, bytes] = {}
        for track in tuple(self._viewers):
            sink = track.sink
            if sink is None or not track.queued:
                continue
            extension = extensions.get(sink.layout)
            if extension is None:
                extension = extensions[sink.layout] = sink.extension(abs_send_time)
            try:
                sink.send(track.take_all(), ntp, extension)
            except ConnectionError:
                track.stop()
            except Exception:
                log.exception("sending to a viewer failed")
                track.stop()
