"""Reply types of the schema scripts (``schema_*.lua``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from livecommerce.store.reply_fields import ReplyError, integer


@dataclass(frozen=True)
class SchemaStampReply:
    """``schema_stamp``: whether the version was stamped (False: the lock was lost)."""

    script: ClassVar[str] = "schema_stamp"
    stamped: bool

    @classmethod
    def parse(cls, raw: object) -> Self:
        answer = integer(cls.script, "answer", raw)
        if answer not in (0, 1):
            raise ReplyError(f"{cls.script}: unknown answer {answer}")
        return cls(answer == 1)
