"""A per-frame send loop for viewers' senders (packets in, RTP out, no encoder).

aiortc's own send loop awaits four coroutine layers for every RTP packet
(DTLS → ICE transport → ICE connection → protocol) and reads the NTP clock
for every packet's abs-send-time. Forwarding pre-encoded frames to many
viewers multiplies that by the viewer count. This loop does the same work
per *frame*: one clock read, then for each packet serialise, SRTP-protect and
``sendto`` on the nominated ICE pair with no await in between. It keeps what
the rest of aiortc relies on: the retransmission history (NACK), the counters
of RTCP sender reports, the ``started``/``exited`` events ``stop()`` waits for,
and stopping the track on exit.

What it reads and replaces of aiortc's sender is in :mod:`media.aiortc_patches`.
"""

from __future__ import annotations

import asyncio
import logging

from aiortc import RTCRtpSender, clock
from aiortc.codecs import get_encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import random32, uint16_add, uint32_add

from media.aiortc_patches import (
    record_sent,
    replace_send_loop,
    send_datagrams,
    sender_enabled,
    sender_state,
)
from media.track import PacketTrack

log = logging.getLogger("media.sender")


def install_frame_sender(sender: RTCRtpSender) -> None:
    """Make ``sender`` send each frame in one go (call before it starts sending)."""
    replace_send_loop(sender, run_frame_sender)


async def run_frame_sender(sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
    """The sender's RTP task: until stopped, send each frame of its track as RTP."""
    state = sender_state(sender)
    state.started.set()
    track = sender.track
    encoder = get_encoder(codec)  # only its pack() runs: payloads from a packet
    sequence_number = random_sequence_number()
    timestamp_origin = random32()
    octets = packets = 0
    payload_type = codec.payloadType
    assert payload_type is not None
    try:
        if not isinstance(track, PacketTrack):
            raise TypeError(f"the frame sender sends encoded frames, not {track!r}")
        while True:
            data = await track.recv()
            if not sender_enabled(sender):
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
                packet.ssrc = state.ssrc
                packet.payload = payload
                packet.marker = 1 if index == last else 0
                packet.extensions.abs_send_time = abs_send_time
                packet.extensions.mid = state.mid
                state.history[sequence_number % RTP_HISTORY_SIZE] = packet
                datagrams.append(packet.serialize(state.extensions_map))
                octets += len(payload)
                packets += 1
                sequence_number = uint16_add(sequence_number, 1)
            send_datagrams(sender.transport, datagrams)
            record_sent(
                sender, ntp_time=ntp, rtp_timestamp=timestamp, octets=octets, packets=packets
            )
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:
        # The exited event must be set whatever happens, or stop() hangs.
        log.exception("a viewer's send loop failed")
    finally:
        if track is not None:
            track.stop()
        state.exited.set()
