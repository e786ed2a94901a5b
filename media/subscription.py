"""A subscription: one viewer's peer connection (WHEP) fed by the relays."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.exceptions import OperationError

from media.aiortc_patches import route_keyframe_requests
from media.codecs import preferences_for
from media.offer import OfferSummary, UnprocessableOfferError
from media.peers import ConnectDeadline, answer_offer, close_quietly, new_peer_connection
from media.relay import TrackRelay
from media.sender import install_frame_sender
from media.session_ids import session_label
from media.settings import RelaySettings
from media.track import PacketTrack
from media.trickle import RemoteIce, SdpFragment

log = logging.getLogger("media.subscription")

EndCallback = Callable[["Subscription", str], None]


class Subscription:
    """One viewer's session; ``on_end`` is called once, whatever ends it."""

    def __init__(self, session_id: str, settings: RelaySettings, on_end: EndCallback) -> None:
        self.session_id = session_id
        self.label = session_label(session_id)
        self.tracks: dict[str, PacketTrack] = {}
        self._relays: dict[str, TrackRelay] = {}
        self._on_end = on_end
        self._frame_sender = settings.frame_sender
        self._pc: RTCPeerConnection = new_peer_connection(settings.peer)
        self._remote_ice = RemoteIce(limit=settings.max_candidates_per_session)
        self._deadline = ConnectDeadline(self._pc, settings.connect_timeout_s, self._end)
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def connection_state(self) -> str:
        return str(self._pc.connectionState)

    async def start(
        self,
        offer_sdp: str,
        summary: OfferSummary,
        relays: dict[str, TrackRelay],
        codecs: dict[str, Any],
    ) -> str:
        """Answer the viewer's offer with the publisher's codecs, one track per kind.

        The session ends by itself unless it connects within ``connect_timeout_s``.
        """
        self._remote_ice.ufrag, self._remote_ice.pwd = summary.ice_ufrag, summary.ice_pwd
        self._remote_ice.candidates = set(summary.candidates)
        transceivers = {}
        for kind in summary.kinds:
            relay = relays.get(kind)
            if relay is None:
                continue
            track = relay.subscribe()
            self.tracks[kind] = track
            self._relays[kind] = relay
            transceiver = self._pc.addTransceiver(track, direction="sendonly")
            if self._frame_sender:
                install_frame_sender(transceiver.sender)
            transceiver.setCodecPreferences(preferences_for(codecs[kind]))
            transceivers[kind] = transceiver
        self._pc.on("connectionstatechange", self._on_state)
        try:
            answer = await answer_offer(self._pc, offer_sdp)
        except OperationError:
            names = ", ".join(f"{k} {c.mimeType.split('/')[1]}" for k, c in codecs.items())
            raise UnprocessableOfferError(
                f"The player cannot receive this room's codecs ({names})."
            ) from None
        for kind, transceiver in transceivers.items():
            # The relay has no encoder to force a keyframe from: the viewer's track skips
            # to the next keyframe and asks upstream.
            route_keyframe_requests(transceiver.sender, self.tracks[kind].request_keyframe)
        self._deadline.start()
        return answer

    def _on_state(self) -> None:
        state = self._pc.connectionState
        if state in ("failed", "closed"):
            self._end(f"connection {state}")

    async def add_candidates(self, fragment: SdpFragment) -> None:
        """Trickled candidates; raises :class:`~media.trickle.FragmentError` subclasses."""
        await self._remote_ice.apply(self._pc, fragment)

    def _end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        self._deadline.cancel()
        for kind, track in self.tracks.items():
            self._relays[kind].unsubscribe(track)
        log.info("subscription %s ended: %s", self.label, reason)
        try:
            self._on_end(self, reason)
        except Exception:
            log.exception("subscription end handler failed")

    async def close(self, reason: str = "closed") -> None:
        """End the session and close its peer connection (idempotent)."""
        self._end(reason)
        await close_quietly(self._pc)

    def stats(self) -> dict[str, Any]:
        return {
            "session": self.label,
            "state": self.connection_state,
            "tracks": {
                kind: {"queued": track.queued, **track.stats.as_dict()}
                for kind, track in self.tracks.items()
            },
        }
