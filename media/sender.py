"""A per-frame send loop for viewers' senders (packets in, RTP out, no encoder).

aiortc's ``RTCRtpSender._run_rtp`` awaits four coroutine layers for every RTP
packet (DTLS → ICE transport → ICE connection → protocol) and reads the NTP
clock for every packet's abs-send-time. Forwarding pre-encoded frames to many
viewers multiplies that by the viewer count. This loop does the same work
per *frame*: one clock read, then for each packet serialise, SRTP-protect and
``sendto`` on the nominated ICE pair with no await in between. It keeps what
the rest of aiortc relies on: the retransmission history (NACK), the counters
of RTCP sender reports, the ``started``/``exited`` events ``stop()`` waits for,
and stopping the track on exit.

It replaces a private method and reads private attributes of aiortc 1.16
(pinned); ``tests/integration/test_media_hub.py`` checks viewers decode with it.
"""

from __future__ import annotations

import asyncio
import logging
import types
from typing import Any

from aiortc import RTCRtpSender, clock
from aiortc.codecs import get_encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import random32, uint16_add, uint32_add

log = logging.getLogger("media.sender")

PRIVATE = "_RTCRtpSender__"
ICE_COMPONENT = 1


def install_frame_sender(sender: RTCRtpSender) -> None:
    """Make ``sender`` send each frame in one go (call before it starts sending)."""
    sender._run_rtp = types.MethodType(_run_rtp, sender)  # type: ignore[method-assign]


def _send_frame(dtls: RTCDtlsTransport, datagrams: list[bytes]) -> None:
    """SRTP-protect and send a frame's packets without yielding to the loop."""
    if dtls._state != State.CONNECTED:
        raise ConnectionError("Cannot send encrypted RTP, not connected")
    pair = dtls.transport._connection._nominated.get(ICE_COMPONENT)
    if pair is None:
        raise ConnectionError("Cannot send data, not connected")
    sendto = pair.protocol.transport.sendto
    address = pair.remote_addr
    protect = dtls._tx_srtp.protect
    for datagram in datagrams:
        sendto(protect(datagram), address)


async def _run_rtp(self: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
    state: dict[str, Any] = {
        name: getattr(self, PRIVATE + name)
        for name in ("rtp_started", "rtp_exited", "rtp_history", "rtp_header_extensions_map")
    }
    state["rtp_started"].set()
    history: dict[int, RtpPacket] = state["rtp_history"]
    extensions_map = state["rtp_header_extensions_map"]
    mid = getattr(self, PRIVATE + "mid")
    track = self.track
    encoder = get_encoder(codec)  # only its pack() runs: payloads from a packet
    sequence_number = random_sequence_number()
    timestamp_origin = random32()
    octets = packets = 0
    payload_type = codec.payloadType
    assert payload_type is not None
    try:
        while True:
            data: Any = await track.recv()
            if not self._enabled:
                continue
            payloads, timestamp = encoder.pack(data)
            if not payloads:
                continue
            timestamp = uint32_add(timestamp_origin, timestamp)
            ntp = clock.current_ntp_time()
            abs_send_time = (ntp >> 14) & 0x00FFFFFF
            last = len(payloads) - 1
            datagrams = []
            for index, payload in enumerate(payloads):
                packet = RtpPacket(
                    payload_type=payload_type,
                    sequence_number=sequence_number,
                    timestamp=timestamp,
                )
                packet.ssrc = self._ssrc
                packet.payload = payload
                packet.marker = 1 if index == last else 0
                packet.extensions.abs_send_time = abs_send_time
                packet.extensions.mid = mid
                history[sequence_number % RTP_HISTORY_SIZE] = packet
                datagrams.append(packet.serialize(extensions_map))
                octets += len(payload)
                packets += 1
                sequence_number = uint16_add(sequence_number, 1)
            _send_frame(self.transport, datagrams)
            # What the RTCP sender reports read.
            setattr(self, PRIVATE + "ntp_timestamp", ntp)
            setattr(self, PRIVATE + "rtp_timestamp", timestamp)
            setattr(self, PRIVATE + "octet_count", octets)
            setattr(self, PRIVATE + "packet_count", packets)
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:
        # The exited event must be set whatever happens, or stop() hangs.
        log.exception("a viewer's send loop failed")
    finally:
        if track is not None:
            track.stop()
        state["rtp_exited"].set()
