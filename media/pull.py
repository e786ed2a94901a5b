"""A pull: this node plays a room from its origin node over WHEP and relays it locally.

One pull per room per node, however many local viewers: the origin sees one
viewer per node, and the local relay fans out. The pull's peer connection is
the offerer (recvonly); its receivers are tapped like a publisher's, so no
frame is decoded here either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media.aiortc_patches import install_tap, negotiated_codecs
from media.peers import close_quietly, new_peer_connection
from media.publication import pli_sender, pusher
from media.relay import TrackRelay
from media.session_ids import session_label
from media.settings import RelaySettings

log = logging.getLogger("media.pull")

EndCallback = Callable[["Pull", str], None]
RelayFactory = Callable[[RTCRtpCodecParameters], TrackRelay]


class PullError(Exception):
    """The origin would not serve the room; ``str()`` says why."""


class WhepClient(Protocol):
    """The HTTP half of pulling (kept out of ``media`` so it needs no HTTP library)."""

    async def post_offer(self, url: str, offer: str) -> tuple[str, str]:
        """POST the offer; (answer, session URL). Raises :class:`PullError`."""

    async def delete(self, session_url: str) -> None:
        """DELETE the session; never raises."""


class Pull:
    """This node's one viewer session on the origin; ``on_end`` is called once."""

    publisher = "origin"

    def __init__(
        self,
        session_id: str,
        url: str,
        client: WhepClient,
        settings: RelaySettings,
        on_end: EndCallback,
    ) -> None:
        self.session_id = session_id
        self.label = session_label(session_id)
        self._client = client
        self.url = url
        self.relays: dict[str, TrackRelay] = {}
        self.codecs: dict[str, RTCRtpCodecParameters] = {}
        self._on_end = on_end
        self._pc: RTCPeerConnection = new_peer_connection(settings.peer)
        self._session_url: str | None = None
        self._ended = False
        self._make_relay: RelayFactory | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    async def start(self, make_relay: RelayFactory) -> None:
        """Offer to the origin's WHEP endpoint; frames then feed relays made per codec."""
        self._make_relay = make_relay
        for kind in ("video", "audio"):
            self._pc.addTransceiver(kind, direction="recvonly")
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_state)
        await self._pc.setLocalDescription(await self._pc.createOffer())
        local = self._pc.localDescription
        assert local is not None
        answer = await self._post(local.sdp)
        # The track events of setRemoteDescription make the relays and tap into them.
        await self._pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def _post(self, offer: str) -> str:
        answer, self._session_url = await self._client.post_offer(self.url, offer)
        return answer

    def _on_track(self, track: MediaStreamTrack) -> None:
        for transceiver in self._pc.getTransceivers():
            codecs = negotiated_codecs(transceiver)
            if transceiver.receiver.track is not track or not codecs:
                continue
            codec = codecs[0]
            assert self._make_relay is not None
            relay = self._make_relay(codec)
            self.relays[track.kind] = relay
            self.codecs[track.kind] = codec
            install_tap(transceiver.receiver, pusher(relay))
            if track.kind == "video":
                relay.set_upstream(pli_sender(transceiver.receiver))

    def _on_state(self) -> None:
        if self._pc.connectionState in ("failed", "closed"):
            self._end(f"origin connection {self._pc.connectionState}")

    def _end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        log.info("pull %s from %s ended: %s", self.label, self.url, reason)
        try:
            self._on_end(self, reason)
        except Exception:
            log.exception("pull end handler failed")

    async def close(self, reason: str = "closed") -> None:
        """Stop pulling: tell the origin (DELETE) and close the connection (idempotent)."""
        self._end(reason)
        if self._session_url is not None:
            url, self._session_url = self._session_url, None
            await self._client.delete(url)
        await close_quietly(self._pc)

    def stats(self) -> dict[str, Any]:
        return {
            "session": self.label,
            "publisher": self.publisher,
            "pulled_from": self.url,
            "state": str(self._pc.connectionState),
            "tracks": {
                kind: {"codec": relay.mime_type, "viewers": relay.viewers, **relay.stats.as_dict()}
                for kind, relay in self.relays.items()
            },
        }
