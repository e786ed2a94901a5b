"""The hook that takes encoded frames from an aiortc receiver before any decoding.

aiortc 1.16's ``RTCRtpReceiver`` puts each complete, depayloaded frame (a
``JitterFrame``) with its codec on a private ``queue.Queue`` that a decoder
thread consumes. We swap that queue, in the peer connection's ``track``
event (before ``receive()`` starts the thread), for :class:`FrameTap`: frames
go to our callback on the event loop, and only the ``None`` stop sentinel
reaches the thread, which therefore idles in ``get()`` and never decodes.
The thread must still exist and get its sentinel, or ``close()`` hangs.
This relies on a private attribute: aiortc is pinned to 1.16.* and
``tests/unit/test_media_tap.py`` fails if the hook stops working.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any, Final

from aiortc import RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

DECODER_QUEUE_ATTRIBUTE: Final = "_RTCRtpReceiver__decoder_queue"
DECODER_THREAD_ATTRIBUTE: Final = "_RTCRtpReceiver__decoder_thread"

FrameSink = Callable[[RTCRtpCodecParameters, bytes, int], None]


class TapUnavailableError(RuntimeError):
    """The installed aiortc no longer has the decoder queue this hook replaces."""


class FrameTap(queue.Queue[Any]):
    """A decoder queue that hands frames to ``sink`` instead of the decoder thread."""

    def __init__(self, sink: FrameSink) -> None:
        super().__init__()
        self._sink = sink

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None, block, timeout)
            return
        codec, frame = item
        self._sink(codec, frame.data, frame.timestamp)


def install_tap(receiver: RTCRtpReceiver, sink: FrameSink) -> FrameTap:
    """Route the receiver's encoded frames to ``sink``; call before it starts receiving."""
    current = getattr(receiver, DECODER_QUEUE_ATTRIBUTE, None)
    if not isinstance(current, queue.Queue):
        raise TapUnavailableError(
            "aiortc's RTCRtpReceiver has no decoder queue to tap; this server needs aiortc 1.16.*"
        )
    if getattr(receiver, DECODER_THREAD_ATTRIBUTE, None) is not None:
        raise TapUnavailableError("the receiver already started its decoder thread")
    tap = FrameTap(sink)
    setattr(receiver, DECODER_QUEUE_ATTRIBUTE, tap)
    return tap
