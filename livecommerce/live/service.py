"""Rooms' live streams on this node: rules around the media hub.

The media hub (``media/``) forwards frames and knows nothing of rooms; this
service decides who may publish (the room's anchor) or play (anyone, or token
holders when configured), keeps the room's live/offline state in the store,
and publishes ``live`` / ``offline`` on the room bus after each write. It
listens on the bus for ``room_ended`` so that ending a room on any node stops
its ingest and playback here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from livecommerce.auth import Principal, Role
from livecommerce.bus import Event, Listener, RoomBus
from livecommerce.config import IceServer, MediaSettings
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.nodes.registry import SESSION_NODE_SEPARATOR, NodeRegistry, node_of_session
from livecommerce.replays.service import RecordingService
from livecommerce.rooms.models import Room, RoomStatus
from livecommerce.rooms.service import RoomService, now_ms
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import Supervisor
from media.admission import CapacityError, ClientLimitError
from media.hub import MediaHub, NotPublishingError, PublisherExistsError
from media.offer import MalformedOfferError, OfferError
from media.peers import IceServer as PeerIceServer
from media.peers import PeerConfig
from media.publication import Publication
from media.pull import PullError, WhepClient
from media.session_ids import session_label
from media.settings import RelaySettings
from media.subscription import Subscription
from media.trickle import FragmentError, IceRestartError, SdpFragment, parse_fragment

log = logging.getLogger("livecommerce.live")

# How long recording that a stream went offline may take before we give up on it.
OFFLINE_WRITE_TIMEOUT_S = 5.0
# A live room's origin vouches for it for this many heartbeats.
HEARTBEATS_PER_TTL = 3


class OriginElsewhereError(Exception):
    """The room is live on another node; play it there."""

    def __init__(self, origin: str) -> None:
        super().__init__(origin)
        self.origin = origin


@dataclass(frozen=True)
class SessionAnswer:
    session_id: str
    answer: str


def relay_settings(
    media: MediaSettings, session_prefix: str = "", prefer_video: str = ""
) -> RelaySettings:
    """The media plane's settings from the ``[media]`` section."""
    return RelaySettings(
        peer=PeerConfig(ice_servers=tuple(_peer_ice_server(s) for s in media.ice_servers)),
        video_queue_frames=media.video_queue_frames,
        audio_queue_frames=media.audio_queue_frames,
        gop_cache_frames=media.gop_cache_frames,
        keyframe_request_interval_s=media.keyframe_request_interval_s,
        publisher_idle_timeout_s=media.publisher_idle_timeout_s,
        max_sessions=media.max_sessions,
        max_sessions_per_client=media.max_sessions_per_address,
        connect_timeout_s=media.connect_timeout_s,
        max_candidates_per_session=media.max_candidates_per_session,
        session_prefix=session_prefix,
        prefer_video=prefer_video,
    )


def _peer_ice_server(server: IceServer) -> PeerIceServer:
    """The media plane's own copy of a configured server (``media/`` imports no settings)."""
    return PeerIceServer(server.urls, server.username, server.credential)


def _offer_error(exc: OfferError) -> ApiError:
    code = (
        ErrorCode.invalid_sdp
        if isinstance(exc, MalformedOfferError)
        else (ErrorCode.unprocessable_offer)
    )
    return ApiError(code, str(exc))


def _full() -> ApiError:
    return ApiError(ErrorCode.media_capacity, headers={"Retry-After": "10"})


def _too_many(limit: int) -> ApiError:
    return ApiError(
        ErrorCode.too_many_connections,
        f"Your address already holds {limit} media sessions here; end one and try again.",
    )


class LiveService:
    """Publishing and playing rooms through this node's :class:`MediaHub`."""

    def __init__(
        self,
        rooms: RoomService,
        bus: RoomBus,
        settings: MediaSettings,
        viewer_token_required: bool = False,
        whep_client: WhepClient | None = None,
        node_id: str = "",
        nodes: NodeRegistry | None = None,
        recordings: RecordingService | None = None,
    ) -> None:
        self._rooms = rooms
        self._bus = bus
        self._settings = settings
        self._viewer_token_required = viewer_token_required
        self._whep_client = whep_client
        self._nodes = nodes
        # Session ids name this node, so requests for them can be routed here.
        prefix = node_id + SESSION_NODE_SEPARATOR if node_id else ""
        records = recordings is not None and recordings.settings.enabled
        prefer = "video/h264" if records and recordings and recordings.settings.prefer_h264 else ""
        self.hub = MediaHub(
            relay_settings(settings, prefix, prefer),
            self._broadcast_ended,
            recordings.on_relays if recordings is not None else None,
        )
        self._listeners: dict[str, Listener] = {}
        self._tasks = Supervisor(logger=log)
        self._ttl_ms = int(settings.live_heartbeat_s * HEARTBEATS_PER_TTL * 1000)

    def start(self) -> None:
        """Start the heartbeat of the rooms this node streams (and the sweep of dead ones)."""
        self._tasks.every(
            "streams-heartbeat",
            self._settings.live_heartbeat_s,
            self.beat_once,
            quiet=STORE_UNAVAILABLE_ERRORS,
            wait_first=True,
        )

    async def beat_once(self) -> None:
        """Vouch for this node's live rooms; take offline the rooms of dead origins."""
        for room_id, session_id in self.hub.publications().items():
            if not await self._rooms.heartbeat(room_id, session_id, self._ttl_ms):
                log.info(
                    "room %s is no longer live with session %s here",
                    room_id,
                    session_label(session_id),
                )
                await self.hub.end_broadcast(room_id, "the room is not live with this session")
                await self._unlisten(room_id)
        alive = None if self._nodes is None else {node.id for node in await self._nodes.alive()}
        for room_id in await self._rooms.expire_stale_live(
            session_gone=lambda session_id: _node_gone(session_id, alive)
        ):
            log.warning("room %s was live on a node that stopped vouching for it", room_id)

    # Publishing (WHIP)

    async def publish(
        self, principal: Principal, room_id: str, offer: str, origin: str, client: str | None
    ) -> SessionAnswer:
        """Start the room's stream from its anchor; replaces the anchor's previous session.

        ``origin`` is this node's URL (from its configuration, never from a request),
        recorded so other nodes can send viewers here; ``client`` is what the
        per-address limit counts.
        """
        room = await self._rooms.get(room_id)
        if not principal.may_act_on_room(room.id, room.anchor):
            raise ApiError(
                ErrorCode.not_your_room, f"Only the anchor of room {room.id!r} may do this."
            )
        if room.status is RoomStatus.ended:
            raise ApiError(ErrorCode.room_ended, f"Room {room.id!r} has ended.")
        if room.status is RoomStatus.live and await self._origin_gone(room):
            await self._take_over(room)
            room = await self._rooms.get(room_id)
        handed_over = room.status is RoomStatus.live and room.live_session is None
        if handed_over and await self.hub.end_pull(room.id, "the origin moves to this node"):
            # A drained origin's pull is dead or about to be: without it the anchor may
            # publish here; the viewers here re-attach on this publication's ``live``.
            await self._unlisten(room.id)
        elsewhere = room.origin not in (None, origin) and not self.hub.is_live(room.id)
        if room.status is RoomStatus.live and elsewhere:
            raise ApiError(
                ErrorCode.publisher_exists,
                f"Room {room.id!r} is live on another node ({room.origin}).",
            )
        try:
            session_id, answer = await self.hub.publish(room.id, principal.user, offer, client)
        except OfferError as exc:
            raise _offer_error(exc) from None
        except PublisherExistsError:
            raise ApiError(ErrorCode.publisher_exists) from None
        except CapacityError:
            raise _full() from None
        except ClientLimitError:
            raise _too_many(self._settings.max_sessions_per_address) from None
        try:
            await self._rooms.go_live(room.id, session_id, origin, self._ttl_ms)
        except BaseException:
            await self.hub.end_session(session_id, "the room cannot go live")
            raise
        await self._listen(room.id)
        return SessionAnswer(session_id, answer)

    async def _origin_gone(self, room: Room) -> bool:
        """The room is live from a session that no node serves any more (its node died)."""
        if room.live_session is None or room.id in self.hub.publications():
            return False
        if (room.live_until or 0) < now_ms():
            return True
        node_id = node_of_session(room.live_session)
        return (
            self._nodes is not None
            and node_id is not None
            and await self._nodes.find(node_id) is None
        )

    async def _take_over(self, room: Room) -> None:
        """Take the room of a dead origin offline now, so its anchor may go live here."""
        assert room.live_session is not None
        if await self._rooms.go_offline(room.id, room.live_session):
            log.warning("room %s: its origin is gone; its anchor goes live here", room.id)
        if await self.hub.end_pull(room.id, "the origin is gone"):
            await self._unlisten(room.id)

    async def _broadcast_ended(self, room_id: str, session_id: str, reason: str) -> None:
        # Bounded: a store that is down must not hold up a shutdown.
        async with asyncio.timeout(OFFLINE_WRITE_TIMEOUT_S):
            await self._unlisten(room_id)
            await self._rooms.go_offline(room_id, session_id)

    # Playing (WHEP)

    async def play(
        self,
        principal: Principal | None,
        room_id: str,
        offer: str,
        origin: str,
        client: str | None,
        node_itself: bool = False,
    ) -> SessionAnswer:
        """Add a viewer to the room's stream (``origin``: this node's URL).

        ``client`` is what the per-address limit counts (None: not counted, for
        ``node_itself``: another node of the deployment pulling the room, which needs
        no viewer token).
        """
        if principal is None and self._viewer_token_required and not node_itself:
            raise ApiError(ErrorCode.unauthorized, "Watching needs a token on this server.")
        room = await self._rooms.get(room_id)
        if room.status is RoomStatus.ended:
            raise ApiError(ErrorCode.room_ended, f"Room {room.id!r} has ended.")
        if not self.hub.is_live(room.id):
            if room.status is RoomStatus.live and room.origin and room.origin != origin:
                await self._pull(room.id, room.origin)
            else:
                raise self._not_live(room.id)
        try:
            session_id, answer = await self.hub.play(room.id, offer, client)
        except OfferError as exc:
            raise _offer_error(exc) from None
        except NotPublishingError:
            raise self._not_live(room.id) from None
        except CapacityError:
            raise _full() from None
        except ClientLimitError:
            raise _too_many(self._settings.max_sessions_per_address) from None
        return SessionAnswer(session_id, answer)

    async def _pull(self, room_id: str, room_origin: str) -> None:
        """Serve a room live on another node: pull it from there, or send the viewer there."""
        if not self._settings.pull_from_origin or self._whep_client is None:
            raise OriginElsewhereError(room_origin)
        try:
            await self.hub.pull(room_id, f"{room_origin}/whep/{room_id}", self._whep_client)
        except PullError as exc:
            log.warning("cannot pull room %s from %s (%s); redirecting", room_id, room_origin, exc)
            raise OriginElsewhereError(room_origin) from None
        await self._listen(room_id)

    def _not_live(self, room_id: str) -> ApiError:
        retry = str(self._settings.not_live_retry_after_s)
        return ApiError(
            ErrorCode.room_not_live,
            f"Room {room_id!r} is not live yet; try again shortly.",
            headers={"Retry-After": retry},
        )

    # Sessions

    def find_publication(self, room_id: str, session_id: str) -> Publication | None:
        """The room's running publication with this id; None when it ended lately.

        ApiError session_not_found when the id is unknown here.
        """
        session = self._find(room_id, session_id)
        if session is None or isinstance(session, Publication):
            return session
        raise self._no_session(session_id)

    def find_subscription(self, room_id: str, session_id: str) -> Subscription | None:
        """The room's running viewer session with this id; None when it ended lately."""
        session = self._find(room_id, session_id)
        if session is None or isinstance(session, Subscription):
            return session
        raise self._no_session(session_id)

    def _find(self, room_id: str, session_id: str) -> Publication | Subscription | None:
        entry = self.hub.session(session_id)
        if entry is not None and entry[0] == room_id:
            return entry[1]
        if entry is None and self.hub.recently_ended(session_id) == room_id:
            return None
        raise self._no_session(session_id)

    @staticmethod
    def _no_session(session_id: str) -> ApiError:
        return ApiError(ErrorCode.session_not_found, f"No media session {session_id[:64]!r} here.")

    def check_may_end(self, principal: Principal, publication: Publication) -> None:
        """Only the publisher itself, a moderator or an admin ends a publication."""
        if principal.role in (Role.moderator, Role.admin):
            return
        if principal.user != publication.publisher:
            raise ApiError(ErrorCode.not_your_room, "Only the anchor who publishes may end it.")

    @staticmethod
    def check_is_publisher(principal: Principal, publication: Publication) -> None:
        """Only the anchor who publishes may change the publication (trickle ICE)."""
        if principal.user != publication.publisher:
            raise ApiError(ErrorCode.not_your_room, "Only the anchor who publishes may change it.")

    async def end_session(self, session_id: str) -> None:
        await self.hub.end_session(session_id)

    async def trickle(self, session: Publication | Subscription, fragment_text: str) -> None:
        """Add trickled candidates (RFC 8840 fragment) to a running session."""
        try:
            fragment: SdpFragment = parse_fragment(fragment_text)
            await session.add_candidates(fragment)
        except IceRestartError as exc:
            raise ApiError(ErrorCode.ice_restart_unsupported, str(exc)) from None
        except FragmentError as exc:
            raise ApiError(ErrorCode.invalid_sdp_fragment, str(exc)) from None

    def stats(self, room_id: str) -> dict[str, Any] | None:
        return self.hub.stats(room_id)

    # Room bus: a room ended anywhere stops its stream here

    async def _listen(self, room_id: str) -> None:
        if room_id in self._listeners:
            return
        listener = Listener(room_id, lambda delivery: self._on_event(room_id, delivery.event))
        self._listeners[room_id] = listener
        await self._bus.listen(listener)

    async def _unlisten(self, room_id: str) -> None:
        listener = self._listeners.pop(room_id, None)
        if listener is not None:
            await self._bus.unlisten(listener)

    def _on_event(self, room_id: str, event: Event) -> None:
        if event.get("type") == "room_ended":
            self._tasks.spawn(f"streams-stop-room-{room_id}", self._stop_room(room_id))
        elif event.get("type") == "offline":
            # The origin stopped (or died and was expired): stop pulling from it.
            self._tasks.spawn(f"streams-stop-pull-{room_id}", self._stop_pull(room_id))

    async def _stop_pull(self, room_id: str) -> None:
        if await self.hub.end_pull(room_id, "the room went offline"):
            await self._unlisten(room_id)

    async def _stop_room(self, room_id: str) -> None:
        await self.hub.end_broadcast(room_id, "the room ended")
        await self._unlisten(room_id)

    async def hand_over(self) -> None:
        """Drain (SIGTERM): end this node's publications and playbacks now, before the node
        waits for its requests to finish. Each room it streamed stays live in the store
        without a stream for ``media.handover_s`` (no ``offline`` on the bus); the
        anchor's client publishes again through the load balancer on another node, whose
        ``live`` makes the viewers re-attach there. A room whose anchor is not back by the
        deadline goes offline (any node's heartbeat sweep). With ``handover_s`` 0, or a
        store that does not answer in time, the rooms go offline at once. :meth:`close`
        ends the rest (the heartbeat, the bus listeners) later."""
        publications = self.hub.publications()
        if self._settings.handover_s > 0:
            deadline = now_ms() + int(self._settings.handover_s * 1000)
            try:
                async with asyncio.timeout(OFFLINE_WRITE_TIMEOUT_S):
                    for room_id, session_id in publications.items():
                        if await self._rooms.hand_over(room_id, session_id, deadline):
                            log.info("room %s handed over: waiting for its anchor", room_id)
            except STORE_UNAVAILABLE_ERRORS as exc:  # asyncio.timeout raises TimeoutError, in it
                log.warning("handing rooms over failed (%s); they go offline", exc)
        # The anchors first: the sooner they publish elsewhere, the shorter the gap.
        await asyncio.gather(
            *(self.hub.end_session(s, "the node is draining") for s in publications.values())
        )
        await self.hub.close()

    async def close(self) -> None:
        """End every stream on this node (shutdown); never hangs on a peer."""
        await self._tasks.stop()  # the heartbeat, and rooms being stopped
        await self.hub.close()
        for room_id in list(self._listeners):
            await self._unlisten(room_id)
        await self._tasks.stop()  # what the streams ending set off (pulls of rooms gone offline)


def _node_gone(session_id: str, alive: set[str] | None) -> bool:
    """The session's node is missing from the registry's ``alive`` set (None: not known)."""
    node_id = node_of_session(session_id)
    return alive is not None and node_id is not None and node_id not in alive
