"""Retention of the hooks' keys: outbox entries every endpoint has acknowledged, and old
dead letters, are removed; nothing an endpoint still owes is.

Guarantees (see ``docs/hooks.md``):

* an outbox entry is trimmed (``XTRIM … MINID``) only when the group of every
  configured endpoint has acknowledged it (it is below the group's oldest
  pending entry and at or below its last delivered one) *and* it is older than
  ``hooks.retention_days``; a room whose groups are not all there yet is left
  alone. With no endpoint configured, age alone decides. Other consumer groups
  (a backend reading the stream itself) are not waited for: they have
  ``hooks.retention_days`` to read;
* each room's outbox is looked at no more than once per ``hooks.trim_interval_s``
  per node; the dead letters likewise, once per interval;
* a dead letter is removed ``hooks.dead_letter_retention_days`` after it died;
* a failed-attempts counter of an endpoint no longer configured is removed
  (with the dead letters, once per interval).

Groups only move forward (acknowledging), so a trim computed from a slightly
stale view only keeps more than it could. Entries trimmed cannot be replayed
from a dead letter any more (``livecommerce hooks replay`` says so).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import ResponseError

from livecommerce.hooks.dead_letters import DeadLetter
from livecommerce.hooks.endpoints import GROUP_PREFIX
from livecommerce.hooks.outbox import stream_id
from livecommerce.store.client import StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys

log = logging.getLogger("livecommerce.hooks")

DAY_MS = 86_400_000
# Rooms trimmed per dispatcher tick at most: a tick stays short with many rooms due at once.
ROOMS_PER_TICK = 50


@dataclass(frozen=True)
class RetentionPolicy:
    """How long the hooks' keys keep what they hold."""

    retention_ms: int
    dead_letter_retention_ms: int
    interval_s: float

    @classmethod
    def of_days(
        cls, *, retention_days: float, dead_letter_retention_days: float, interval_s: float
    ) -> RetentionPolicy:
        return cls(
            retention_ms=int(retention_days * DAY_MS),
            dead_letter_retention_ms=int(dead_letter_retention_days * DAY_MS),
            interval_s=interval_s,
        )


def next_id(entry: tuple[int, int]) -> tuple[int, int]:
    """The smallest stream id after ``entry``."""
    return entry[0], entry[1] + 1


def shown(entry: tuple[int, int]) -> str:
    return f"{entry[0]}-{entry[1]}"


async def acknowledged_below(
    client: StoreClient, stream: str, groups: Sequence[str]
) -> tuple[int, int] | None:
    """The id below which every one of ``groups`` has acknowledged every entry of
    ``stream``; None when a group is missing (or the key is not a stream)."""
    try:
        infos = {as_text(i["name"]): i for i in await client.xinfo_groups(stream)}
    except ResponseError:
        return None
    boundary: tuple[int, int] | None = None
    for group in groups:
        info = infos.get(group)
        if info is None:
            return None
        summary = await client.xpending(stream, group) if int(info["pending"]) > 0 else None
        if summary and summary.get("min") is not None:
            bound = stream_id(as_text(summary["min"]))
        else:  # nothing pending (or acknowledged, or the stream deleted, since XINFO)
            bound = next_id(stream_id(as_text(info["last-delivered-id"])))
        boundary = bound if boundary is None else min(boundary, bound)
    return boundary


async def trim_outbox(
    client: StoreClient, keys: Keys, room: str, groups: Sequence[str], retention_ms: int
) -> int:
    """Trim the room's outbox of entries every group acknowledged that are older than
    ``retention_ms`` (by the store's clock); the number removed."""
    stream = keys.outbox(room)
    seconds, micros = await client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    minid = (now_ms - retention_ms, 0)
    if groups:
        acked = await acknowledged_below(client, stream, groups)
        if acked is None:
            return 0
        minid = min(acked, minid)
    if minid <= (0, 0):
        return 0
    return int(await client.xtrim(stream, minid=shown(minid), approximate=False))


async def trim_dead_letters(client: StoreClient, keys: Keys, retention_ms: int) -> int:
    """Remove dead letters that died more than ``retention_ms`` ago (and unreadable ones
    left behind by a bug, which nothing could replay); the number removed."""
    seconds, micros = await client.time()
    cutoff = int(seconds) * 1000 + int(micros) // 1000 - retention_ms
    old: list[str] = []
    async for letter_id, text in client.hscan_iter(keys.dead_letters(), count=500):
        try:
            died = DeadLetter.from_json(as_text(text)).dead_at_ms
        except ValueError:
            continue  # load_all logs it; an operator decides
        if died < cutoff:
            old.append(as_text(letter_id))
    for start in range(0, len(old), 500):
        await client.hdel(keys.dead_letters(), *old[start : start + 500])
    return len(old)


async def trim_attempts(client: StoreClient, keys: Keys, endpoint_ids: set[str]) -> int:
    """Remove the failed-attempts counters of endpoints not in ``endpoint_ids`` (nothing
    will acknowledge or bury their entries any more); the number removed."""
    stale: list[str] = []
    async for field_name, _ in client.hscan_iter(keys.hook_attempts(), count=500):
        name = as_text(field_name)
        if name.partition("|")[0] not in endpoint_ids:
            stale.append(name)
    for start in range(0, len(stale), 500):
        await client.hdel(keys.hook_attempts(), *stale[start : start + 500])
    return len(stale)


class Retention:
    """The dispatcher's trimming: which rooms are due, and doing it."""

    def __init__(self, *, client: StoreClient, keys: Keys, policy: RetentionPolicy) -> None:
        self._client = client
        self._keys = keys
        self._policy = policy
        self._next: dict[str, float] = {}
        self._next_letters = 0.0

    async def run(self, rooms: Sequence[str], groups: Sequence[str], now: float) -> None:
        """Trim what is due at monotonic time ``now`` (a bounded amount per call)."""
        interval = self._policy.interval_s
        due = [room for room in rooms if self._next.get(room, 0.0) <= now][:ROOMS_PER_TICK]
        for room in due:
            self._next[room] = now + interval
            removed = await trim_outbox(
                self._client, self._keys, room, groups, self._policy.retention_ms
            )
            if removed:
                log.info("hooks: trimmed %d delivered entries of room %s's outbox", removed, room)
        if len(self._next) > 2 * max(len(rooms), 1):
            known = set(rooms)
            self._next = {room: at for room, at in self._next.items() if room in known}
        if now >= self._next_letters:
            self._next_letters = now + interval
            removed = await trim_dead_letters(
                self._client, self._keys, self._policy.dead_letter_retention_ms
            )
            if removed:
                log.info("hooks: removed %d dead letters past their retention", removed)
            endpoint_ids = {group.removeprefix(GROUP_PREFIX) for group in groups}
            await trim_attempts(self._client, self._keys, endpoint_ids)
