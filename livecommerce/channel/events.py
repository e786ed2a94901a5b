"""The event registry: every frame of the room channel, in both directions, and who may
receive it.

This is the one list. The bus refuses to publish a delivery it does not
allow (:func:`check_delivery`, given to the bus by the app), the hub and the
sessions refuse to send a frame it does not describe (:func:`check_frame`),
``channel/messages.py`` parses exactly its client frames, and tests keep the
frame tables of ``docs/channel.md`` (generated from it by
``python -m livecommerce.channel.export``) and the web client's handler
table in step with it.

To add a frame: add its :class:`FrameSpec` to its area's module in
:mod:`livecommerce.channel.frames` (a new area: a new module, named in ``AREAS``
below), regenerate the docs, and
handle it in ``clients/viewer/js/room.js`` (server → client) or
``channel/messages.py`` (client → server).
"""

from __future__ import annotations

from collections.abc import Mapping

from livecommerce.bus import Delivery, Event
from livecommerce.channel.frame_types import KIND_TYPES as KIND_TYPES
from livecommerce.channel.frame_types import Audience as Audience
from livecommerce.channel.frame_types import ClientFrame as ClientFrame
from livecommerce.channel.frame_types import Field as Field
from livecommerce.channel.frame_types import FrameSpec as FrameSpec
from livecommerce.channel.frame_types import Kind as Kind
from livecommerce.channel.frame_types import ServerFrame as ServerFrame
from livecommerce.channel.frames import analytics, core, formats, moderation, orders

AREAS = (core, analytics, moderation, formats, orders)

SERVER_FRAMES: tuple[ServerFrame, ...] = tuple(
    frame for area in AREAS for frame in area.SERVER_FRAMES
)
CLIENT_FRAMES: tuple[ClientFrame, ...] = tuple(
    frame for area in AREAS for frame in area.CLIENT_FRAMES
)


class EventError(ValueError):
    """A frame or delivery the registry does not allow; the message says why."""


SERVER: dict[str, ServerFrame] = {frame.name: frame for frame in SERVER_FRAMES}
CLIENT: dict[str, ClientFrame] = {frame.name: frame for frame in CLIENT_FRAMES}
# Every server frame is checked before it is sent, answers too: what to check is worked
# out once per registered spec (by identity: the registry's specs live as long as the
# module), not per send.
_Checks = tuple[frozenset[str], tuple[tuple[Field, type, bool], ...]]


def _checks_of(spec: FrameSpec) -> _Checks:
    """The spec's field names (and "type"), and per field its type and whether it must
    be an integer that is not a boolean."""
    names = frozenset(field.name for field in spec.fields) | {"type"}
    per_field = tuple(
        (field, KIND_TYPES[field.kind], field.kind is Kind.integer) for field in spec.fields
    )
    return names, per_field


_CHECKS: dict[int, _Checks] = {id(frame): _checks_of(frame) for frame in SERVER_FRAMES}


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
    _check_routed(check_frame(delivery.event), delivery.to, delivery.staff)
    if delivery.timer is not None and delivery.timer.then is not None:
        _check_routed(check_frame(delivery.timer.then), delivery.to, delivery.staff)


def _check_routed(spec: ServerFrame, to: str | None, staff: bool) -> None:
    if (spec.audience is Audience.staff) != staff:
        if staff:
            raise EventError(f"{spec.name!r} is not a staff frame: the delivery has 'staff'")
        raise EventError(f"{spec.name!r} is for the room's staff: the delivery needs 'staff'")
    if spec.audience is Audience.staff and to is not None:
        raise EventError(f"{spec.name!r} is for the room's staff: the delivery has 'to'")
    if spec.audience is Audience.sender:
        raise EventError(f"{spec.name!r} answers one socket; it never goes on the room bus")
    if spec.audience is Audience.user and to is None:
        raise EventError(f"{spec.name!r} is for one user: the delivery needs 'to'")
    if spec.audience is Audience.room and to is not None:
        raise EventError(f"{spec.name!r} is for everyone in the room: the delivery has 'to'")


def _check_fields(spec: FrameSpec, message: Event) -> None:
    names, per_field = _CHECKS.get(id(spec)) or _checks_of(spec)
    if not names.issuperset(message):
        extra = sorted(set(message) - names)
        raise EventError(f"{spec.name!r} has no field {extra[0][:40]!r}")
    for field, kind_type, integer in per_field:
        if field.name not in message:
            if field.optional:
                continue
            raise EventError(f"{spec.name!r} needs {field.name!r}")
        value = message[field.name]
        if value is None and field.nullable:
            continue
        if not isinstance(value, kind_type) or (integer and isinstance(value, bool)):
            article = "an" if field.kind.value[0] in "aeiou" else "a"
            raise EventError(
                f"{field.name!r} of {spec.name!r} must be {article} {field.kind.value}"
            )
