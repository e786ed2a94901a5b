"""A publication: the publisher's peer connection (WHIP) feeding the relays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.aiortc_patches import FrameSink, install_tap, send_rtcp_pli
from media.codecs import choose_codec, preferences_for
from media.offer import OfferSummary, UnprocessableOfferError
from media.peers import ConnectDeadline, answer_offer, close_quietly, new_peer_connection
from media.relay import TrackRelay
from media.session_ids import session_label
from media.settings import RelaySettings
from media.tasks import cancel_and_wait
from media.trickle import RemoteIce, SdpFragment

log = logging.getLogger("media.publication")

EndCallback = Callable[["Publication", str], None]


async def send_pli(receiver: RTCRtpReceiver) -> None:
    """Ask the publisher for a keyframe (RTCP PLI on every SSRC it sends)."""
    for source in receiver.getSynchronizationSources():
        await send_rtcp_pli(receiver, source.source)


def pusher(relay: TrackRelay) -> FrameSink:
    """A tap sink feeding ``relay``."""

    def push(_codec: RTCRtpCodecParameters, data: bytes, timestamp: int) -> None:
        relay.push(data, timestamp)

    return push


def pli_sender(receiver: RTCRtpReceiver) -> Callable[[], Awaitable[None]]:
    """Keyframe requests sent upstream through ``receiver``."""

    async def send() -> None:
        await send_pli(receiver)

    return send


class Publication:
    """One publisher's session; ``on_end`` is called once, whatever ends it."""

    def __init__(
        self, session_id: str, publisher: str, settings: RelaySettings, on_end: EndCallback
    ) -> None:
        self.session_id = session_id
        self.label = session_label(session_id)
        self.publisher = publisher
        self.codecs: dict[str, RTCRtpCodecParameters] = {}
        self.relays: dict[str, TrackRelay] = {}
        self._settings = settings
        self._on_end = on_end
        self._pc: RTCPeerConnection = new_peer_connection(settings.peer)
        self._remote_ice = RemoteIce(limit=settings.max_candidates_per_session)
        self._deadline = ConnectDeadline(self._pc, settings.connect_timeout_s, self._end)
        self._ended = False
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def connection_state(self) -> str:
        return str(self._pc.connectionState)

    def negotiate_codecs(self, summary: OfferSummary) -> dict[str, RTCRtpCodecParameters]:
        """The codec of each offered kind, as we will answer it."""
        chosen: dict[str, RTCRtpCodecParameters] = {}
        for kind in summary.kinds:
            codec = choose_codec(summary.codecs[kind], self._settings.prefer_video)
            if codec is None:
                raise UnprocessableOfferError(
                    f"The {kind} section offers no codec this server forwards."
                )
            chosen[kind] = codec
        self.codecs = chosen
        return chosen

    async def start(
        self, offer_sdp: str, summary: OfferSummary, relays: dict[str, TrackRelay]
    ) -> str:
        """Answer the offer; frames of each kind go to ``relays[kind]``.

        The session ends by itself unless it connects within ``connect_timeout_s``.
        """
        self.relays = relays
        self._remote_ice.ufrag, self._remote_ice.pwd = summary.ice_ufrag, summary.ice_pwd
        self._remote_ice.candidates = set(summary.candidates)
        for kind, codec in self.codecs.items():
            transceiver = self._pc.addTransceiver(kind, direction="recvonly")
            transceiver.setCodecPreferences(preferences_for(codec))
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_state)
        answer = await answer_offer(self._pc, offer_sdp)
        self._watchdog = asyncio.create_task(self._watch_idle(), name=f"idle-{self.label}")
        self._deadline.start()
        return answer

    def _on_track(self, track: MediaStreamTrack) -> None:
        for transceiver in self._pc.getTransceivers():
            receiver = transceiver.receiver
            if receiver.track is not track:
                continue
            relay = self.relays.get(track.kind)
            if relay is None:
                return
            install_tap(receiver, pusher(relay))
            if track.kind == "video":
                relay.set_upstream(pli_sender(receiver))

    def _on_state(self) -> None:
        state = self._pc.connectionState
        if state in ("failed", "closed"):
            self._end(f"connection {state}")

    async def _watch_idle(self) -> None:
        """End the session when no frame arrives for the idle timeout (ICE loss, crash)."""
        timeout_s = self._settings.publisher_idle_timeout_s
        last_count = 0  # a session that never delivers a frame ends after one timeout
        while not self._ended:
            await asyncio.sleep(timeout_s)
            count = sum(r.stats.frames_in for r in self.relays.values())
            if count == last_count:
                self._end(f"no media for {timeout_s:g} s")
                return
            last_count = count

    async def add_candidates(self, fragment: SdpFragment) -> None:
        """Trickled candidates; raises :class:`~media.trickle.FragmentError` subclasses."""
        await self._remote_ice.apply(self._pc, fragment)

    def _end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._deadline.cancel()
        log.info("publication %s ended: %s", self.label, reason)
        try:
            self._on_end(self, reason)
        except Exception:
            log.exception("publication end handler failed")

    async def close(self, reason: str = "closed") -> None:
        """End the session and close its peer connection (idempotent)."""
        self._end(reason)
        watchdog = self._watchdog
        if watchdog is not asyncio.current_task():
            await cancel_and_wait(watchdog)
        await close_quietly(self._pc)

    def stats(self) -> dict[str, Any]:
        return {
            "session": self.label,
            "publisher": self.publisher,
            "state": self.connection_state,
            "tracks": {
                kind: {
                    "codec": relay.mime_type,
                    "viewers": relay.viewers,
                    **relay.stats.as_dict(),
                }
                for kind, relay in self.relays.items()
            },
        }
