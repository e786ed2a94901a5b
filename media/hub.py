"""The media plane of one node: broadcasts by stream key, sessions by id.

A *broadcast* is what one stream key (the application uses room ids) carries
on this node: at most one publication, the relays fed by it, and the viewers'
subscriptions. The hub knows nothing of rooms, tokens or the store; the
application decides who may publish or play and learns through
``on_broadcast_end`` when a broadcast stops by itself (DELETE, ICE failure,
publisher silence), so it can tell everyone the stream went offline.

Guarantees: one publisher per key (a second one gets :class:`PublisherExistsError`
unless it is the same publisher, whose new session replaces the old and keeps
the viewers when the codecs match); session ids are unguessable and never
appear in stats or logs (their labels do); at most ``max_sessions`` sessions,
and ``max_sessions_per_client`` per client, run or negotiate at once; a session
not connected ``connect_timeout_s`` after its answer ends and frees its place;
an offer with more than ``max_candidates_per_session`` ICE candidates is
refused; every peer connection is closed by :meth:`MediaHub.close` within a
bounded time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from media import aiortc_patches
from media.admission import SessionSlots
from media.offer import OfferSummary, check_offer
from media.publication import Publication
from media.pull import Pull, WhepClient
from media.relay import TrackRelay
from media.session_ids import new_session_id
from media.settings import RelaySettings
from media.stats import MediaCounters
from media.subscription import Subscription
from media.tasks import Supervisor
from media.trickle import SdpFragment

log = logging.getLogger("media.hub")
# Sessions still closing when the hub closes get this long before they are cancelled.
CLOSE_GRACE_S = 10.0

Session = Publication | Subscription
BroadcastEnded = Callable[[str, str, str], Awaitable[None]]
# A publication made new relays for a key: (key, publisher, relays by kind). The
# application may add consumers to them (the recorder); they close with the relays.
RelaysStarted = Callable[[str, str, dict[str, TrackRelay]], None]


class PublisherExistsError(Exception):
    """Another publisher is live on this key."""


class NotPublishingError(Exception):
    """Nothing is published on this key on this node."""


@dataclass
class Broadcast:
    key: str
    publication: Publication | Pull
    relays: dict[str, TrackRelay]
    codecs: dict[str, RTCRtpCodecParameters]
    subscriptions: dict[str, Subscription] = field(default_factory=dict)


@dataclass
class SessionCounts:
    publications: int = 0
    pulls: int = 0
    viewers: int = 0


async def _nothing(key: str, session_id: str, reason: str) -> None:
    return None


class MediaHub:
    """Publications and subscriptions of one node.

    Making one installs :mod:`media.aiortc_patches` (idempotent), so it raises
    :class:`~media.aiortc_patches.UnsupportedVersionError` under other aiortc or
    aioice versions than those pinned.
    """

    def __init__(
        self,
        settings: RelaySettings,
        on_broadcast_end: BroadcastEnded = _nothing,
        on_relays: RelaysStarted | None = None,
    ) -> None:
        aiortc_patches.install()  # what the relay needs of aiortc; refuses other versions
        self.settings = settings
        self.counters = MediaCounters()
        self._on_broadcast_end = on_broadcast_end
        self._on_relays = on_relays
        self._broadcasts: dict[str, Broadcast] = {}
        self._sessions: dict[str, tuple[str, Session]] = {}
        self._slots = SessionSlots(settings.max_sessions, settings.max_sessions_per_client)
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks = Supervisor(grace_s=CLOSE_GRACE_S, logger=log)
        self._closing = False

    # Queries

    def is_live(self, key: str) -> bool:
        return key in self._broadcasts

    def publications(self) -> dict[str, str]:
        """``{key: publication session id}`` of every broadcast on this node."""
        return {
            key: b.publication.session_id
            for key, b in self._broadcasts.items()
            if isinstance(b.publication, Publication)
        }

    def publisher_of(self, key: str) -> str | None:
        broadcast = self._broadcasts.get(key)
        return broadcast.publication.publisher if broadcast else None

    def session(self, session_id: str) -> tuple[str, Session] | None:
        """The stream key and session for an id, if the session is running here."""
        return self._sessions.get(session_id)

    def recently_ended(self, session_id: str) -> str | None:
        """The key of a session that ended lately (DELETE after a client-side close is 200)."""
        return self._recent.get(session_id)

    def stats(self, key: str) -> dict[str, Any] | None:
        broadcast = self._broadcasts.get(key)
        if broadcast is None:
            return None
        return {
            "publication": broadcast.publication.stats(),
            "viewers": len(broadcast.subscriptions),
            "subscriptions": [s.stats() for s in broadcast.subscriptions.values()],
        }

    def count_sessions(self) -> int:
        """Publications and viewers running or being negotiated (pulls not included)."""
        return len(self._slots)

    def sessions_of(self, client: str) -> int:
        """Publications and viewers ``client`` runs or negotiates here."""
        return self._slots.of_client(client)

    def counts(self) -> SessionCounts:
        """How many publications, pulls and viewers this node runs now."""
        counts = SessionCounts()
        for broadcast in self._broadcasts.values():
            if isinstance(broadcast.publication, Publication):
                counts.publications += 1
            else:
                counts.pulls += 1
            counts.viewers += len(broadcast.subscriptions)
        return counts

    # Publishing

    async def publish(
        self, key: str, publisher: str, offer_sdp: str, client: str | None = None
    ) -> tuple[str, str]:
        """Start publishing on ``key``; returns (session id, answer SDP).

        Raises :class:`~media.offer.OfferError` for a bad offer,
        :class:`PublisherExistsError` when someone else publishes on the key, and
        :class:`~media.admission.CapacityError` / :class:`~media.admission.ClientLimitError`
        when the node or ``client`` is at its limit.
        """
        summary = check_offer(offer_sdp, "publish", self.settings.max_candidates_per_session)
        session_id = new_session_id(self.settings.session_prefix)
        self._slots.acquire(session_id, client)
        try:
            return await self._publish(key, publisher, offer_sdp, summary, session_id)
        except BaseException:
            self._slots.release(session_id)
            raise

    async def _publish(
        self, key: str, publisher: str, offer_sdp: str, summary: OfferSummary, session_id: str
    ) -> tuple[str, str]:
        async with self._lock(key):
            current = self._broadcasts.get(key)
            if current is not None and current.publication.publisher != publisher:
                raise PublisherExistsError(key)
            publication = Publication(session_id, publisher, self.settings, self._publication_ended)
            codecs = publication.negotiate_codecs(summary)
            if current is not None and _same_codecs(current.codecs, codecs):
                relays = current.relays
                for relay in relays.values():
                    relay.new_source()
            else:
                relays = {kind: self._relay(codec) for kind, codec in codecs.items()}
            try:
                answer = await publication.start(offer_sdp, summary, relays)
            except BaseException:
                await publication.close("negotiation failed")
                if current is None or relays is not current.relays:
                    for relay in relays.values():
                        await relay.close()
                raise
            if current is not None and self._broadcasts.get(key) is not current:
                # The old session died while the new one was negotiating, and took
                # the broadcast (and its relays) with it: start over, once.
                await publication.close("the previous session ended meanwhile")
                if relays is not current.relays:
                    for relay in relays.values():
                        await relay.close()
                raise PublisherExistsError(key)
            self._sessions[session_id] = (key, publication)
            if self._on_relays is not None and (current is None or relays is not current.relays):
                self._on_relays(key, publisher, relays)
            if current is not None:
                await self._replace(current, publication, relays, codecs)
            else:
                self._broadcasts[key] = Broadcast(key, publication, relays, codecs)
            log.info("%s publishes %s as session %s", publisher, key, publication.label)
            return session_id, answer

    async def _replace(
        self,
        broadcast: Broadcast,
        publication: Publication,
        relays: dict[str, TrackRelay],
        codecs: dict[str, RTCRtpCodecParameters],
    ) -> None:
        old = broadcast.publication
        broadcast.publication = publication
        if relays is not broadcast.relays:
            # New codecs: the viewers negotiated the old ones and must reconnect.
            await self._end_subscriptions(broadcast, "publisher changed codecs")
            for relay in broadcast.relays.values():
                await relay.close()
            broadcast.relays = relays
            broadcast.codecs = codecs
        await old.close("replaced by a new session of the same publisher")

    def _relay(self, codec: RTCRtpCodecParameters) -> TrackRelay:
        kind = codec.mimeType.split("/")[0].lower()
        return TrackRelay(
            kind,
            codec.mimeType,
            codec.clockRate,
            queue_frames=(
                self.settings.video_queue_frames
                if kind == "video"
                else self.settings.audio_queue_frames
            ),
            gop_cache_frames=self.settings.gop_cache_frames,
            keyframe_interval_s=self.settings.keyframe_request_interval_s,
            counters=self.counters,
        )

    # Pulling from another node

    async def pull(self, key: str, url: str, client: WhepClient) -> None:
        """Relay ``key`` here from another node's WHEP ``url`` (once; later calls return).

        Raises :class:`~media.pull.PullError` when the origin does not serve it.
        """
        async with self._lock(key):
            if key in self._broadcasts or self._closing:
                return
            pull = Pull(
                new_session_id(self.settings.session_prefix),
                url,
                client,
                self.settings,
                self._publication_ended,
            )
            try:
                await pull.start(self._relay)
            except BaseException:
                await pull.close("pull failed")
                for relay in pull.relays.values():
                    await relay.close()
                raise
            self._broadcasts[key] = Broadcast(key, pull, pull.relays, pull.codecs)
            log.info("pulling %s from %s", key, url)

    def _publication_ended(self, publication: Publication | Pull, reason: str) -> None:
        self._forget(publication.session_id)
        for key, broadcast in self._broadcasts.items():
            if broadcast.publication is publication:
                self._tasks.spawn(f"end-{key}", self._end_broadcast(key, reason, notify=True))
                break
        else:
            self._tasks.spawn(f"close-{publication.session_id}", publication.close(reason))

    # Playing

    async def play(self, key: str, offer_sdp: str, client: str | None = None) -> tuple[str, str]:
        """Add a viewer to ``key``; returns (session id, answer SDP).

        Raises :class:`~media.offer.OfferError`, :class:`NotPublishingError`, and
        :class:`~media.admission.CapacityError` / :class:`~media.admission.ClientLimitError`
        when the node or ``client`` is at its limit.
        """
        summary = check_offer(offer_sdp, "play", self.settings.max_candidates_per_session)
        broadcast = self._broadcasts.get(key)
        if broadcast is None or self._closing:
            raise NotPublishingError(key)
        session_id = new_session_id(self.settings.session_prefix)
        self._slots.acquire(session_id, client)
        try:
            return await self._play(key, broadcast, offer_sdp, summary, session_id)
        except BaseException:
            self._slots.release(session_id)
            raise

    async def _play(
        self,
        key: str,
        broadcast: Broadcast,
        offer_sdp: str,
        summary: OfferSummary,
        session_id: str,
    ) -> tuple[str, str]:
        subscription = Subscription(session_id, self.settings, self._subscription_ended)
        try:
            answer = await subscription.start(
                offer_sdp, summary, broadcast.relays, broadcast.codecs
            )
        except BaseException:
            await subscription.close("negotiation failed")
            raise
        if self._broadcasts.get(key) is not broadcast or subscription.ended:
            await subscription.close("the broadcast ended")
            raise NotPublishingError(key)
        broadcast.subscriptions[session_id] = subscription
        self._sessions[session_id] = (key, subscription)
        return session_id, answer

    def _subscription_ended(self, subscription: Subscription, reason: str) -> None:
        entry = self._sessions.get(subscription.session_id)
        self._forget(subscription.session_id)
        if entry is not None:
            broadcast = self._broadcasts.get(entry[0])
            if broadcast is not None:
                broadcast.subscriptions.pop(subscription.session_id, None)
                if isinstance(broadcast.publication, Pull) and not broadcast.subscriptions:
                    # Nobody watches here any more: stop pulling from the origin.
                    self._tasks.spawn(
                        f"end-{entry[0]}",
                        self._end_broadcast(entry[0], "no viewers left", notify=True),
                    )
        self._tasks.spawn(f"close-{subscription.session_id}", subscription.close(reason))

    # Ending

    async def add_candidates(self, session_id: str, fragment: SdpFragment) -> None:
        entry = self._sessions.get(session_id)
        if entry is not None:
            await entry[1].add_candidates(fragment)

    async def end_session(self, session_id: str, reason: str = "ended by the client") -> bool:
        """End a session (a publication ends its whole broadcast); False if unknown."""
        entry = self._sessions.get(session_id)
        if entry is None:
            return False
        await entry[1].close(reason)
        await self._tasks.join()
        return True

    async def end_pull(self, key: str, reason: str) -> bool:
        """Stop relaying ``key`` here if it is pulled from another node; False otherwise."""
        broadcast = self._broadcasts.get(key)
        if broadcast is None or not isinstance(broadcast.publication, Pull):
            return False
        await self._end_broadcast(key, reason, notify=False)
        return True

    async def end_broadcast(self, key: str, reason: str) -> None:
        """Stop publishing and playing ``key`` here (the application ended the stream)."""
        await self._end_broadcast(key, reason, notify=False)

    async def _end_broadcast(self, key: str, reason: str, *, notify: bool) -> None:
        broadcast = self._broadcasts.pop(key, None)
        if broadcast is None:
            return
        await self._end_subscriptions(broadcast, reason)
        for relay in broadcast.relays.values():
            await relay.close()
        await broadcast.publication.close(reason)
        if notify:
            try:
                await self._on_broadcast_end(key, broadcast.publication.session_id, reason)
            except Exception:
                log.exception("broadcast end handler for %s failed", key)

    async def _end_subscriptions(self, broadcast: Broadcast, reason: str) -> None:
        subscriptions = list(broadcast.subscriptions.values())
        broadcast.subscriptions.clear()
        await asyncio.gather(*(s.close(reason) for s in subscriptions))

    async def close(self) -> None:
        """End everything (node shutdown)."""
        self._closing = True
        await asyncio.gather(
            *(
                self._end_broadcast(key, "the server is shutting down", notify=True)
                for key in list(self._broadcasts)
            )
        )
        await self._tasks.stop()

    # Helpers

    def _forget(self, session_id: str) -> None:
        self._slots.release(session_id)
        entry = self._sessions.pop(session_id, None)
        if entry is None:
            return
        self._recent[session_id] = entry[0]
        while len(self._recent) > self.settings.recent_sessions:
            self._recent.popitem(last=False)

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


def _same_codecs(a: dict[str, RTCRtpCodecParameters], b: dict[str, RTCRtpCodecParameters]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].mimeType.lower() == b[k].mimeType.lower() and a[k].parameters == b[k].parameters
        for k in a
    )
