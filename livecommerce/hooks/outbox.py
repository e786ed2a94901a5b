"""The store side of delivery: consumer groups on the outbox streams, taking, keeping,
acknowledging and counting.

Each endpoint has one consumer group (``hooks:<endpoint id>``) on every
room's outbox stream, created at id 0 (so it sees the whole stream) when the
dispatcher first sees the room, and only while the room exists (``hooks_groups.lua``),
so a dispatcher racing the room's deletion never brings its outbox back. A group's
pending entries act as a lease: ``hooks_take.lua`` gives new entries to a node only
while no other node holds any, so one room's events reach one endpoint in order. Failed attempts are
counted in ``Keys.hook_attempts()`` under ``"ENDPOINT|ROOM|ENTRY"`` so the
count survives a restart. Stream entries are never deleted here (``retention.py`` trims
them once every endpoint has acknowledged them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redis.exceptions import ResponseError

from livecommerce.store.client import StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.store.replies import HooksTakeReply, HooksTouchReply, TakeKind
from livecommerce.store.replies_hooks import GroupsOutcome, HooksGroupsReply

log = logging.getLogger("livecommerce.hooks")

# Rooms per pipelined status look-up: one round trip each, replies of bounded size.
STATUS_CHUNK = 200


def stream_id(value: str) -> tuple[int, int]:
    """``"ms-seq"`` as a comparable pair."""
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class GroupStatus:
    pending: int
    last_delivered: tuple[int, int]
    # Entries not yet read by the group; None when the store cannot tell (entries were
    # deleted between the group's position and the stream's end).
    lag: int | None = None


@dataclass
class RoomStatus:
    """One outbox stream: its newest entry id and each hook group's progress."""

    top: tuple[int, int] | None
    groups: dict[str, GroupStatus] = field(default_factory=dict)

    def has_work(self, group: str) -> bool:
        """True when the group has entries pending or not yet read (or does not exist)."""
        status = self.groups.get(group)
        if status is None:
            return self.top is not None
        return status.pending > 0 or (self.top is not None and self.top > status.last_delivered)

    def backlog(self, group: str) -> int:
        """Entries the group has not acknowledged: pending plus not yet read (at least one
        when the store cannot count those); 0 for a group not created yet."""
        status = self.groups.get(group)
        if status is None:
            return 0
        if status.lag is not None:
            unread = status.lag
        else:
            unread = int(self.top is not None and self.top > status.last_delivered)
        return status.pending + unread


class Outbox:
    """Outbox streams and hook groups in the store, for one key prefix."""

    def __init__(self, *, client: StoreClient, keys: Keys, scripts: ScriptRunner) -> None:
        self._client = client
        self._keys = keys
        self._scripts = scripts
        self._reported: set[str] = set()

    def _report(self, room: str, error: Exception) -> None:
        """Log once per room that its outbox key is unusable (say, not a stream)."""
        if room not in self._reported:
            self._reported.add(room)
            log.error("hooks: outbox of room %s is unusable, skipped: %s", room, error)

    async def room_count(self) -> int:
        return int(await self._client.scard(self._keys.outboxes()))

    async def rooms(self) -> set[str]:
        return {as_text(m) for m in await self._client.smembers(self._keys.outboxes())}

    async def ensure_groups(self, room: str, groups: Iterable[str]) -> bool:
        """Create the groups missing on the room's stream (at id 0, creating the stream),
        only while the room exists (``hooks_groups.lua``): a room deleted meanwhile gets
        no outbox back. False when the room is gone."""
        reply = await self._scripts.call(
            HooksGroupsReply, [self._keys.room(room), self._keys.outbox(room)], list(groups)
        )
        for error in reply.errors:
            self._report(room, ResponseError(error))
        return reply.outcome is GroupsOutcome.ok

    async def status(self, rooms: Sequence[str]) -> dict[str, RoomStatus]:
        """Each room's newest entry and hook group progress, a few pipelined round trips."""
        result: dict[str, RoomStatus] = {}
        for start in range(0, len(rooms), STATUS_CHUNK):
            chunk = rooms[start : start + STATUS_CHUNK]
            pipe = self._client.pipeline(transaction=False)
            for room in chunk:
                pipe.xrevrange(self._keys.outbox(room), count=1)
                pipe.xinfo_groups(self._keys.outbox(room))
            replies = await pipe.execute(raise_on_error=False)
            for index, room in enumerate(chunk):
                newest, groups = replies[2 * index], replies[2 * index + 1]
                if isinstance(newest, Exception):  # not a stream: skipped, not fatal
                    self._report(room, newest)
                    continue
                top = stream_id(as_text(newest[0][0])) if newest else None
                status = RoomStatus(top)
                if not isinstance(groups, Exception):  # no stream yet: no groups
                    for info in groups:
                        lag = info.get("lag")
                        status.groups[as_text(info["name"])] = GroupStatus(
                            int(info["pending"]),
                            stream_id(as_text(info["last-delivered-id"])),
                            None if lag is None else int(lag),
                        )
                result[room] = status
        return result

    async def take(
        self, room: str, group: str, consumer: str, count: int, claim_idle_ms: int
    ) -> HooksTakeReply:
        """Entries for ``consumer`` to deliver next (see ``hooks_take.lua``): ``new`` or
        ``held`` entries, or ``busy`` when another consumer holds some."""
        args = (group, consumer, count, claim_idle_ms)
        try:
            return await self._scripts.call(HooksTakeReply, [self._keys.outbox(room)], args)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            if not await self.ensure_groups(room, [group]):
                return HooksTakeReply(TakeKind.new, [])  # the room was deleted: nothing to do
            return await self._scripts.call(HooksTakeReply, [self._keys.outbox(room)], args)

    async def keep(
        self, room: str, group: str, consumer: str, ids: Sequence[str], idle_ms: int = 0
    ) -> set[str]:
        """Reset (or set to ``idle_ms``) the idle time of the ids the consumer still holds;
        those ids."""
        if not ids:
            return set()
        reply = await self._scripts.call(
            HooksTouchReply, [self._keys.outbox(room)], [group, consumer, idle_ms, *ids]
        )
        return set(reply.held)

    async def ack(self, room: str, group: str, endpoint_id: str, entry_id: str) -> None:
        """Done with an entry for this endpoint: acknowledge it, forget its attempts."""
        pipe = self._client.pipeline(transaction=False)
        pipe.xack(self._keys.outbox(room), group, entry_id)
        pipe.hdel(self._keys.hook_attempts(), attempts_field(endpoint_id, room, entry_id))
        await pipe.execute()

    async def add_failure(self, room: str, endpoint_id: str, entry_id: str) -> int:
        """Count one more failed attempt; the total so far."""
        field_name = attempts_field(endpoint_id, room, entry_id)
        return int(await self._client.hincrby(self._keys.hook_attempts(), field_name, 1))

    async def failures(self, room: str, endpoint_id: str, entry_id: str) -> int:
        field_name = attempts_field(endpoint_id, room, entry_id)
        return int(await self._client.hget(self._keys.hook_attempts(), field_name) or 0)


def attempts_field(endpoint_id: str, room: str, entry_id: str) -> str:
    """The field of ``Keys.hook_attempts()`` counting one entry's failures for one endpoint."""
    return f"{endpoint_id}|{room}|{entry_id}"
