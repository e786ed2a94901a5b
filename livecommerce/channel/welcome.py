"""The welcome snapshot: the first frame a session gets, and the timers it implies.

The snapshot is read after the session joined the hub, so frames published
meanwhile wait in the session (see ``session.py``) and none is lost; chat
already in the snapshot is not sent twice.

Commerce and moderation are read through the small protocols below: the
channel does not import those packages (they are its siblings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from livecommerce.bus import ROOM_MUTE_TIMER, USER_MUTE_TIMER
from livecommerce.channel.chat import ChatMessage, ChatService
from livecommerce.channel.events import check_frame
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.likes import LikeCounter
from livecommerce.channel.session import ChannelSession
from livecommerce.channel.wire import OutgoingFrame


class JsonView(Protocol):
    def to_json(self) -> Mapping[str, object]: ...


class RoomView(JsonView, Protocol):
    @property
    def id(self) -> str: ...


class ModerationView(Protocol):
    """What the welcome needs of ``moderation.service.ModerationState``."""

    @property
    def room_muted_until(self) -> int | None:
        """ms; -1 while muted until lifted; None when not muted."""

    @property
    def slow_mode_s(self) -> int: ...

    @property
    def muted_until(self) -> int | None:
        """The connecting user's timeout (ms), or None."""


class PinnedProduct(Protocol):
    async def pinned(self, room_id: str) -> JsonView | None: ...


class ActiveSales(Protocol):
    async def active(self, room_id: str) -> Sequence[JsonView]: ...


class ActiveFormats(Protocol):
    async def snapshot(self, room_id: str) -> Mapping[str, object]:
        """The room's live vouchers, auctions and giveaways."""


@dataclass(frozen=True, kw_only=True)
class WelcomeSources:
    """Where a welcome is read from; one per node."""

    chat: ChatService
    likes: LikeCounter
    hub: ChannelHub
    catalog: PinnedProduct
    sales: ActiveSales
    welcome_messages: int
    history_size: int
    formats: ActiveFormats | None = None


@dataclass(frozen=True, kw_only=True)
class Welcome:
    """A room's state as one client may see it."""

    room: JsonView
    messages: list[ChatMessage]
    resumed: bool
    likes: int
    pinned_product: JsonView | None
    sales: Sequence[JsonView]
    viewers: int
    moderation: ModerationView
    formats: Mapping[str, object] | None
    user: str | None
    role: str
    can_chat: bool

    def frame(self) -> dict[str, object]:
        moderation = self.moderation
        room_until = moderation.room_muted_until
        return {
            "type": "welcome",
            "room": self.room.to_json(),
            "resumed": self.resumed,
            "messages": [message.to_frame() for message in self.messages],
            "likes": self.likes,
            "pinned_product": self.pinned_product.to_json() if self.pinned_product else None,
            "sales": [sale.to_json() for sale in self.sales],
            "viewers": self.viewers,
            "room_muted": room_until is not None,
            "room_muted_until": room_until if (room_until or 0) > 0 else None,
            "slow_mode": {"interval_s": moderation.slow_mode_s},
            **({"formats": dict(self.formats)} if self.formats is not None else {}),
            "you": {
                "user": self.user,
                "role": self.role,
                "muted_until": moderation.muted_until,
                "can_chat": self.can_chat,
            },
        }


async def read_welcome(
    sources: WelcomeSources,
    *,
    session: ChannelSession,
    room: RoomView,
    moderation: ModerationView,
    resume: str | None,
) -> Welcome:
    """Read the snapshot for ``session``: the chat after ``resume`` when the history
    still reaches it (``resumed``), else the latest ``welcome_messages``."""
    messages = None
    if resume is not None:
        messages = await sources.chat.since(room.id, resume, sources.history_size)
    resumed = messages is not None
    if messages is None:
        messages = await sources.chat.recent(room.id, sources.welcome_messages)
    unmuted = moderation.room_muted_until is None and moderation.muted_until is None
    return Welcome(
        room=room,
        messages=messages,
        resumed=resumed,
        pinned_product=await sources.catalog.pinned(room.id),
        likes=await sources.likes.total(room.id),
        sales=await sources.sales.active(room.id),
        viewers=sources.hub.viewers(room.id),
        moderation=moderation,
        formats=await sources.formats.snapshot(room.id) if sources.formats else None,
        user=session.user,
        role=session.role or "anonymous",
        can_chat=session.user is not None and (session.privileged or unmuted),
    )


def start_session(session: ChannelSession, welcome: Welcome, resume: str | None) -> None:
    """Send the welcome (then what waited for it) and set the mute timers it implies."""
    frame = welcome.frame()
    check_frame(frame)
    last_id = welcome.messages[-1].id if welcome.messages else resume
    session.start_streaming(OutgoingFrame(frame), last_id)
    moderation = welcome.moderation
    if moderation.muted_until:
        session.schedule(
            USER_MUTE_TIMER, moderation.muted_until, OutgoingFrame({"type": "unmuted"})
        )
    room_until = moderation.room_muted_until
    if room_until is not None and room_until > 0:
        session.schedule(ROOM_MUTE_TIMER, room_until, OutgoingFrame({"type": "room_unmuted"}))
