"""Dead letters: deliveries that gave up, kept in ``Keys.dead_letters()`` for an operator.

A dead letter's id is ``ENDPOINT:ROOM:ENTRY`` (endpoint id, room id, outbox
entry id): one per event and endpoint. Its JSON keeps the entry's fields as
read, the endpoint's id and URL, the failed attempts, the last error and when
it died. Burying acknowledges the entry for that endpoint only.

Replaying puts the original stream entry back into the endpoint's group as a
pending entry of the consumer ``replay``, idle for a year, so the next
dispatcher that looks takes it over (XAUTOCLAIM) and delivers it again with
the same ``webhook-id`` and body. Other endpoints and direct stream readers
see nothing. An entry no longer in the stream cannot be replayed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from redis.exceptions import ResponseError

from livecommerce.hooks.endpoints import group_name
from livecommerce.hooks.outbox import attempts_field
from livecommerce.store.client import StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys

log = logging.getLogger("livecommerce.hooks")

REPLAY_CONSUMER = "replay"
# Far beyond any claim_idle_s, so any dispatcher takes a replayed entry at once.
REPLAY_IDLE_MS = 365 * 86_400_000


@dataclass(frozen=True)
class DeadLetter:
    """One event that one endpoint never acknowledged."""

    id: str
    endpoint: str
    url: str
    room: str
    entry: str
    event: dict[str, str]
    attempts: int
    error: str
    dead_at_ms: int

    @property
    def event_id(self) -> str:
        return self.event.get("id", "")

    @property
    def type(self) -> str:
        return self.event.get("type", "")

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> DeadLetter:
        """Parse a stored record; ``ValueError`` if it is not one."""
        try:
            raw: Any = json.loads(text)
            return cls(
                id=str(raw["id"]),
                endpoint=str(raw["endpoint"]),
                url=str(raw["url"]),
                room=str(raw["room"]),
                entry=str(raw["entry"]),
                event={str(k): str(v) for k, v in dict(raw["event"]).items()},
                attempts=int(raw["attempts"]),
                error=str(raw["error"]),
                dead_at_ms=int(raw["dead_at_ms"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a dead letter record: {exc}") from None


def dead_letter_id(endpoint_id: str, room: str, entry_id: str) -> str:
    return f"{endpoint_id}:{room}:{entry_id}"


def new_dead_letter(
    endpoint_id: str,
    url: str,
    room: str,
    entry_id: str,
    fields: dict[str, str],
    attempts: int,
    error: str,
) -> DeadLetter:
    return DeadLetter(
        id=dead_letter_id(endpoint_id, room, entry_id),
        endpoint=endpoint_id,
        url=url,
        room=room,
        entry=entry_id,
        event=dict(fields),
        attempts=attempts,
        error=error,
        dead_at_ms=int(time.time() * 1000),
    )


async def bury(client: StoreClient, keys: Keys, letter: DeadLetter) -> None:
    """Record the dead letter, then acknowledge the entry for its endpoint.

    Not one transaction (the keys live in different slots on a cluster); a
    crash in between leaves the entry pending, so it is tried again and buried
    again under the same id.
    """
    pipe = client.pipeline(transaction=False)
    pipe.hset(keys.dead_letters(), letter.id, letter.to_json())
    pipe.xack(keys.outbox(letter.room), group_name(letter.endpoint), letter.entry)
    pipe.hdel(keys.hook_attempts(), attempts_field(letter.endpoint, letter.room, letter.entry))
    await pipe.execute()


async def count_dead_letters(client: StoreClient, keys: Keys) -> int:
    """How many dead letters the store holds (one HLEN, whatever their number)."""
    return int(await client.hlen(keys.dead_letters()))


async def load_all(client: StoreClient, keys: Keys) -> list[DeadLetter]:
    """Every dead letter, oldest first; unreadable records are logged and skipped."""
    letters: list[DeadLetter] = []
    async for letter_id, text in client.hscan_iter(keys.dead_letters(), count=500):
        try:
            letters.append(DeadLetter.from_json(as_text(text)))
        except ValueError as exc:
            log.warning("dead letter %s is unreadable: %s", as_text(letter_id), exc)
    letters.sort(key=lambda letter: (letter.dead_at_ms, letter.id))
    return letters


async def requeue(client: StoreClient, keys: Keys, letter: DeadLetter) -> bool:
    """Give the entry back to its endpoint's group and drop the dead letter; False if the
    entry (or the group) is gone."""
    stream = keys.outbox(letter.room)
    try:
        claimed = await client.xclaim(
            stream,
            group_name(letter.endpoint),
            REPLAY_CONSUMER,
            0,
            [letter.entry],
            idle=REPLAY_IDLE_MS,
            force=True,
            justid=True,
        )
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        return False
    if letter.entry not in {as_text(c) for c in claimed}:
        return False
    pipe = client.pipeline(transaction=False)
    pipe.hdel(keys.hook_attempts(), attempts_field(letter.endpoint, letter.room, letter.entry))
    pipe.hdel(keys.dead_letters(), letter.id)
    await pipe.execute()
    return True


def select(letters: Iterable[DeadLetter], ids: Iterable[str] | None) -> list[DeadLetter]:
    """The letters whose id (or event id) is in ``ids``; all of them for None."""
    if ids is None:
        return list(letters)
    wanted = set(ids)
    return [letter for letter in letters if letter.id in wanted or letter.event_id in wanted]
