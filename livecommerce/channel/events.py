"""The event registry: every frame of the room channel, in both directions, and who may
receive it.

This is the one list. The bus refuses to publish a delivery it does not
allow (:func:`check_delivery`, given to the bus by the app), the hub and the
sessions refuse to send a frame it does not describe (:func:`check_frame`),
``channel/messages.py`` parses exactly its client frames, and tests keep the
frame tables of ``docs/channel.md`` (generated from it by
``python -m livecommerce.channel.export``) and the web client's handler
table in step with it.

To add a frame: add its :class:`FrameSpec` here, regenerate the docs, and
handle it in ``clients/viewer/js/room.js`` (server → client) or
``channel/messages.py`` (client → server).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from livecommerce.bus import Delivery, Event


class Audience(StrEnum):
    """Who may receive a server → client frame."""

    room = "everyone in the room"
    user = "one user (all of their sockets)"
    sender = "the socket it answers"


class Kind(StrEnum):
    """A field's value type, as JSON names it."""

    string = "string"
    integer = "integer"
    boolean = "boolean"
    map = "map"
    list = "list"

    def admits(self, value: object) -> bool:
        if self is Kind.integer:
            return isinstance(value, int) and not isinstance(value, bool)
        return isinstance(value, KIND_TYPES[self])


KIND_TYPES: dict[Kind, type] = {
    Kind.string: str,
    Kind.integer: int,
    Kind.boolean: bool,
    Kind.map: dict,
    Kind.list: list,
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    note: str = ""
    optional: bool = False  # may be left out
    nullable: bool = False  # may be null


@dataclass(frozen=True, kw_only=True)
class FrameSpec:
    name: str
    fields: tuple[Field, ...] = ()
    when: str


@dataclass(frozen=True, kw_only=True)
class ServerFrame(FrameSpec):
    """A server → client frame; ``audience`` says who may receive it."""

    audience: Audience


@dataclass(frozen=True, kw_only=True)
class ClientFrame(FrameSpec):
    """A client → server frame."""


class EventError(ValueError):
    """A frame or delivery the registry does not allow; the message says why."""


def _f(name: str, kind: Kind, note: str = "", **flags: bool) -> Field:
    return Field(name, kind, note, **flags)


STR, INT, BOOL, MAP, LIST = Kind.string, Kind.integer, Kind.boolean, Kind.map, Kind.list
ROOM, USER, SENDER = Audience.room, Audience.user, Audience.sender

SERVER_FRAMES: tuple[ServerFrame, ...] = (
    ServerFrame(
        name="welcome",
        audience=SENDER,
        when="first frame after connecting",
        fields=(
            _f("room", MAP, "the room, as in the API"),
            _f("resumed", BOOL, "true when `messages` are those after `resume`"),
            _f(
                "messages",
                LIST,
                "`chat` frames, oldest first (the last `channel.welcome_messages`, "
                "or those after `resume`)",
            ),
            _f("likes", INT),
            _f("pinned_product", MAP, "as in the API", nullable=True),
            _f("sales", LIST, "every sale not ended, as in the API, with `left`"),
            _f("viewers", INT),
            _f("room_muted", BOOL),
            _f("room_muted_until", INT, "ms, or null unless muted for a set time", nullable=True),
            _f("slow_mode", MAP, "`{interval_s}`"),
            _f(
                "you",
                MAP,
                "`{user, role, muted_until, can_chat}` (`role` is `anonymous` without a token)",
            ),
        ),
    ),
    ServerFrame(
        name="chat",
        audience=ROOM,
        when="a message was posted (also to its sender)",
        fields=(
            _f("id", STR),
            _f("user", STR),
            _f("role", STR),
            _f("text", STR),
            _f("ts", INT, "ms"),
        ),
    ),
    ServerFrame(
        name="chat_deleted",
        audience=ROOM,
        when="a moderator removed a message",
        fields=(_f("id", STR),),
    ),
    ServerFrame(
        name="likes",
        audience=ROOM,
        when="the room's like total grew (at most every `channel.likes_interval_s`)",
        fields=(_f("total", INT),),
    ),
    ServerFrame(
        name="viewers",
        audience=ROOM,
        when="the room's viewers over all nodes changed (checked every "
        "`channel.viewers_interval_s`): on each node, each signed-in user once however "
        "many sockets it holds, plus each anonymous socket; the room's anchor and staff "
        "(moderators, admins) watching are not counted",
        fields=(_f("count", INT),),
    ),
    ServerFrame(
        name="live",
        audience=ROOM,
        when="the anchor went live (the video can be played)",
        fields=(_f("room", STR), _f("started_at", INT, "ms", nullable=True)),
    ),
    ServerFrame(
        name="offline",
        audience=ROOM,
        when="the anchor's stream stopped; the room goes on and may go live again",
        fields=(_f("room", STR),),
    ),
    ServerFrame(
        name="room_ended",
        audience=ROOM,
        when="the room ended",
        fields=(_f("room", STR),),
    ),
    ServerFrame(
        name="room_muted",
        audience=ROOM,
        when="only the anchor and moderators may chat",
        fields=(_f("until", INT, "ms (null: until lifted)", nullable=True),),
    ),
    ServerFrame(
        name="room_unmuted",
        audience=ROOM,
        when="the room mute was lifted or ran out",
    ),
    ServerFrame(
        name="muted",
        audience=USER,
        when="you were timed out",
        fields=(_f("until", INT, "ms"),),
    ),
    ServerFrame(
        name="unmuted",
        audience=USER,
        when="your timeout was lifted or ran out",
    ),
    ServerFrame(
        name="banned",
        audience=USER,
        when="you were banned (or are, when connecting): the connection closes with 4403",
    ),
    ServerFrame(
        name="unbanned",
        audience=USER,
        when="your ban was lifted (sent to your open sessions, if any)",
    ),
    ServerFrame(
        name="slow_mode",
        audience=ROOM,
        when="slow mode changed",
        fields=(_f("interval_s", INT, "0 = off"),),
    ),
    ServerFrame(
        name="resync",
        audience=ROOM,
        when="this node lost its link to the store for a while and may have missed "
        "events: reconnect with `resume`",
    ),
    ServerFrame(
        name="pong",
        audience=SENDER,
        when="answer to `ping`",
        fields=(_f("ts", INT, "ms"),),
    ),
    ServerFrame(
        name="error",
        audience=SENDER,
        when="a frame was refused, or the connection is about to close (see [Errors](#errors))",
        fields=(
            _f("code", STR),
            _f("message", STR),
            _f("until", INT, "ms", optional=True),
            _f("key", STR, "the refused `buy`'s key", optional=True),
        ),
    ),
    ServerFrame(
        name="buy_result",
        audience=SENDER,
        when="answer to `buy`",
        fields=(
            _f("key", STR),
            _f("ok", BOOL),
            _f("order", STR, "when ok", optional=True),
            _f("expires_at", INT, "ms, pay before it (when ok)", optional=True),
            _f(
                "reason",
                STR,
                "when not ok, one of `sold_out`, `not_enough_stock`, `limit_reached`, "
                "`sale_ended`, `sale_not_started`, `sale_not_found`, `banned`",
                optional=True,
            ),
        ),
    ),
    ServerFrame(
        name="order",
        audience=USER,
        when="the buyer's order changed",
        fields=(_f("id", STR), _f("status", STR, "`paid`, `cancelled` or `expired`")),
    ),
    ServerFrame(
        name="sale_started",
        audience=ROOM,
        when="a flash sale opened",
        fields=(_f("sale", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="sale_ended",
        audience=ROOM,
        when="a flash sale ended",
        fields=(_f("sale", MAP, "as in the API"),),
    ),
    ServerFrame(
        name="sale_stock",
        audience=ROOM,
        when="a sale's stock changed (at most every `commerce.stock_interval_s` per node)",
        fields=(_f("sale", STR, "its id"), _f("left", INT)),
    ),
    ServerFrame(
        name="sold_out",
        audience=ROOM,
        when="the last unit of a sale was reserved",
        fields=(_f("sale", STR, "its id"),),
    ),
    ServerFrame(
        name="product_pinned",
        audience=ROOM,
        when="the anchor pinned a product",
        fields=(_f("product", MAP, "as in the API"),),
    ),
)

CLIENT_FRAMES: tuple[ClientFrame, ...] = (
    ClientFrame(
        name="chat",
        when="needs a token; cleaned per [Chat text](#chat-text), then "
        "1..`channel.max_chat_chars` characters",
        fields=(_f("text", STR),),
    ),
    ClientFrame(
        name="like",
        when="needs a token; within the user's [like budget](#likes), summed and "
        "broadcast as totals",
        fields=(_f("count", INT, "1..`channel.max_likes_per_frame` (default 1)", optional=True),),
    ),
    ClientFrame(name="ping", when="answered with `pong`"),
    ClientFrame(
        name="buy",
        when="needs a token; answered with `buy_result` (see [Commerce](#commerce))",
        fields=(
            _f("sale", STR, "the sale's id"),
            _f("qty", INT, "1..1000 (default 1)", optional=True),
            _f(
                "key",
                STR,
                "the buyer's idempotency key, 1..128 printable characters (the same "
                "user's same key on the same sale always gets the same answer, on any node)",
            ),
        ),
    ),
)

SERVER: dict[str, ServerFrame] = {frame.name: frame for frame in SERVER_FRAMES}
CLIENT: dict[str, ClientFrame] = {frame.name: frame for frame in CLIENT_FRAMES}


def check_frame(message: Mapping[str, object]) -> ServerFrame:
    """The spec of a server → client frame; :class:`EventError` unless ``message`` is
    a registered frame with exactly its fields, each of its kind."""
    kind = message.get("type")
    spec = SERVER.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise EventError(f"frame type {str(kind)[:40]!r} is not in the event registry")
    _check_fields(spec, message)
    return spec


def check_delivery(delivery: Delivery) -> None:
    """Raise :class:`EventError` unless the delivery's event (and its timer's frame) is
    registered and goes to the audience it may reach: a room frame to the whole room, a
    user frame to one user, never a frame that only answers one socket."""
    _check_routed(check_frame(delivery.event), delivery.to)
    if delivery.timer is not None and delivery.timer.then is not None:
        _check_routed(check_frame(delivery.timer.then), delivery.to)


def _check_routed(spec: ServerFrame, to: str | None) -> None:
    if spec.audience is Audience.sender:
        raise EventError(f"{spec.name!r} answers one socket; it never goes on the room bus")
    if spec.audience is Audience.user and to is None:
        raise EventError(f"{spec.name!r} is for one user: the delivery needs 'to'")
    if spec.audience is Audience.room and to is not None:
        raise EventError(f"{spec.name!r} is for everyone in the room: the delivery has 'to'")


def _check_fields(spec: FrameSpec, message: Event) -> None:
    names = {field.name for field in spec.fields}
    extra = sorted(set(message) - names - {"type"})
    if extra:
        raise EventError(f"{spec.name!r} has no field {extra[0][:40]!r}")
    for field in spec.fields:
        if field.name not in message:
            if field.optional:
                continue
            raise EventError(f"{spec.name!r} needs {field.name!r}")
        value = message[field.name]
        if value is None and field.nullable:
            continue
        if not field.kind.admits(value):
            article = "an" if field.kind.value[0] in "aeiou" else "a"
            raise EventError(
                f"{field.name!r} of {spec.name!r} must be {article} {field.kind.value}"
            )
