"""The pieces every reply type is parsed with (:mod:`livecommerce.store.replies` and the
``replies_<area>.py`` modules beside it): the reply protocol, its error, and checked
readers of list items, text, integers and choices."""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum
from typing import ClassVar, Protocol, Self, TypeVar, cast

INTEGER = re.compile(r"-?[0-9]{1,20}")


class ReplyError(ValueError):
    """A script answered in a shape its reply type does not know."""


class ScriptReply(Protocol):
    """A typed answer of the script named ``script``."""

    script: ClassVar[str]

    @classmethod
    def parse(cls, raw: object) -> Self:
        """The answer as sent by the store; :class:`ReplyError` when it has another shape."""
        ...


R = TypeVar("R", bound=ScriptReply)
E = TypeVar("E", bound=StrEnum)
N = TypeVar("N", bound=IntEnum)


def shown(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 200 else text[:200] + "…"


def items(script: str, raw: object, *counts: int) -> list[object]:
    if not isinstance(raw, list) or len(raw) not in counts:
        wanted = " or ".join(str(count) for count in counts)
        raise ReplyError(f"{script}: expected a list of {wanted} items, got {shown(raw)}")
    return raw


def text(script: str, what: str, value: object) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            pass
    elif isinstance(value, str):
        return value
    raise ReplyError(f"{script}: {what} must be text, got {shown(value)}")


def integer(script: str, what: str, value: object) -> int:
    """A Lua number (an integer reply) or the text of one (``tostring(n)``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, bytes | str):
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        if INTEGER.fullmatch(text):
            return int(text)
    raise ReplyError(f"{script}: {what} must be an integer, got {shown(value)}")


def choice(script: str, what: str, value: object, choices: type[E]) -> E:
    name = text(script, what, value)
    members = _MEMBERS.get(choices)
    if members is None:  # a dict lookup per reply from then on, not the enum's call
        members = _MEMBERS[choices] = {member.value: member for member in choices}
    member = members.get(name)
    if member is None:
        raise ReplyError(f"{script}: unknown {what} {name!r}")
    return cast(E, member)


_MEMBERS: dict[type[StrEnum], dict[str, StrEnum]] = {}


def code(script: str, value: object, codes: type[N]) -> N:
    number = integer(script, "answer", value)
    try:
        return codes(number)
    except ValueError:
        raise ReplyError(f"{script}: unknown answer {number}") from None
