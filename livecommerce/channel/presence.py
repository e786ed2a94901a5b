"""Viewer counts: each node reports its local count per room; totals sum live nodes."""

from __future__ import annotations

import time
from dataclasses import dataclass

from livecommerce.context import StoreContext
from livecommerce.store.decoding import as_text
from livecommerce.store.replies import PresenceReportReply


def shown_count(total: int, exact_up_to: int) -> int:
    """The viewer count clients see: ``total`` up to ``exact_up_to``, above it rounded to
    two significant digits (12,345 → 12,000), so a big room's count changes, and is
    broadcast to every socket, only when it moves by a visible step."""
    if total <= exact_up_to or total < 100:
        return total
    step: int = 10 ** (len(str(total)) - 2)
    return (total + step // 2) // step * step


@dataclass(frozen=True)
class ViewerCount:
    total: int
    peak: int


class Presence:
    """Per-node viewer counts with expiry, so a dead node's viewers vanish on their own."""

    def __init__(self, *, store: StoreContext, node_id: str, ttl_s: float) -> None:
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._node_id = node_id
        self._ttl_ms = int(ttl_s * 1000)

    async def report(self, room_id: str, local_count: int) -> ViewerCount:
        """Record this node's count for the room (0 removes it) and read the room's total."""
        reply = await self._scripts.call(
            PresenceReportReply,
            [self._keys.room_presence(room_id), self._keys.room_counters(room_id)],
            [self._node_id, local_count, self._ttl_ms],
        )
        return ViewerCount(reply.total, reply.peak)

    async def total(self, room_id: str) -> int:
        """The room's viewers over live nodes, read without reporting."""
        return (await self.totals([room_id]))[0]

    async def totals(self, room_ids: list[str]) -> list[int]:
        """Viewers of each room over live nodes, in one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for room_id in room_ids:
            pipe.hgetall(self._keys.room_presence(room_id))
        now = int(time.time() * 1000)
        return [_live_sum(entries, now) for entries in await pipe.execute()]


def _live_sum(entries: dict[bytes, bytes], now: int) -> int:
    total = 0
    for value in entries.values():
        count, _, expires = as_text(value).partition(":")
        if int(expires) >= now:
            total += int(count)
    return total
