"""The RTP task of a viewer's sender when the relay's fan-out sends its frames.

aiortc's own send loop reads one frame at a time from the track, packs it and
awaits four coroutine layers for every RTP packet (DTLS → ICE transport → ICE
connection → protocol). Forwarding pre-encoded frames to many viewers
multiplies that by the viewer count, and waking one task per viewer for every
frame is itself a cost. Here the sender's task only hands the track a
:class:`~media.fanout.ViewerSink` (the RTP state: SSRC, sequence numbers,
timestamp offset, payload type, header extensions, NACK history, sender-report
counters) and waits for the track to end: the relay's :class:`~media.fanout.FanOut`
sends every viewer's frames in one pass per tick. The task keeps what
``RTCRtpSender.stop()`` relies on: the ``started``/``exited`` events, and
stopping the track on exit.

What it reads and replaces of aiortc's sender is in :mod:`media.aiortc_patches`.
"""

from __future__ import annotations

import asyncio
import logging

from aiortc import RTCRtpSender
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.aiortc_patches import replace_send_loop, sender_state
from media.fanout import ViewerSink
from media.track import PacketTrack

log = logging.getLogger("media.sender")


def install_frame_sender(sender: RTCRtpSender) -> None:
    """Make the relay's fan-out send ``sender``'s frames (call before it starts sending)."""
    replace_send_loop(sender, run_frame_sender)


async def run_frame_sender(sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
    """The sender's RTP task: attach the track to the fan-out, then wait until either is
    stopped."""
    state = sender_state(sender)
    state.started.set()
    track = sender.track
    try:
        if not isinstance(track, PacketTrack):
            raise TypeError(f"the frame sender sends encoded frames, not {track!r}")
        track.attach(ViewerSink(sender, codec, state))
        await track.wait_ended()
    except (asyncio.CancelledError, ConnectionError, MediaStreamError):
        pass
    except Exception:
        # The exited event must be set whatever happens, or stop() hangs.
        log.exception("a viewer's send loop failed")
    finally:
        if track is not None:
            track.stop()
        state.exited.set()
