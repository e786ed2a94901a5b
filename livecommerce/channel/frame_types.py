"""The vocabulary of the event registry: who may receive a frame, its fields and their
kinds. The frames themselves are in :mod:`livecommerce.channel.frames`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Audience(StrEnum):
    """Who may receive a server → client frame."""

    room = "everyone in the room"
    user = "one user (all of their sockets)"
    staff = "the room's staff: its anchor, moderators and admins"
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


def field(name: str, kind: Kind, note: str = "", **flags: bool) -> Field:
    return Field(name, kind, note, **flags)


STR, INT, BOOL, MAP, LIST = Kind.string, Kind.integer, Kind.boolean, Kind.map, Kind.list
ROOM, USER, SENDER, STAFF = Audience.room, Audience.user, Audience.sender, Audience.staff
