"""What the publishing loop tells a console: live or not, reconnecting, the peer connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection


@dataclass
class PublicationWatch:
    """Written by the publishing loop, read by the full-screen console.

    ``on_change`` runs (on the loop) after each change; notices are the lines the
    line mode prints on stderr, which a full-screen console must not do.
    """

    live: bool = False
    reconnecting: bool = False
    pc: RTCPeerConnection | None = None
    notice: str = ""
    on_change: list[Callable[[], None]] = field(default_factory=list)

    def update(
        self,
        *,
        live: bool | None = None,
        reconnecting: bool | None = None,
        pc: RTCPeerConnection | None = None,
        notice: str = "",
    ) -> None:
        if live is not None:
            self.live = live
            self.pc = pc if live else None
        if reconnecting is not None:
            self.reconnecting = reconnecting
        if notice:
            self.notice = notice
        for callback in list(self.on_change):
            callback()

    async def bytes_sent(self) -> int | None:
        """Bytes of RTP sent by the current publication, None when not live."""
        pc = self.pc
        if pc is None:
            return None
        report = await pc.getStats()
        return sum(
            int(getattr(stats, "bytesSent", 0))
            for stats in report.values()
            if getattr(stats, "type", "") == "outbound-rtp"
        )
