"""Rooms: create, read, list and end.

The room hash is the truth; the ``rooms`` and ``rooms:live`` sorted sets are
indexes written after it (they live outside the room's hash tag, so they
cannot share its atomic step). Readers therefore check each indexed room's
own status and skip ids whose hash is gone.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Collection

from livecommerce.context import StoreContext
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.rooms.models import Room, RoomStatus
from livecommerce.store.decoding import as_text
from livecommerce.store.replies import (
    GoLive,
    GoOffline,
    RoomEnd,
    RoomsCreateReply,
    RoomsEndReply,
    RoomsGoLiveReply,
    RoomsGoOfflineReply,
    RoomsLiveHeartbeatReply,
)
from livecommerce.store.replies_handover import HandOver, RoomsHandOverReply

ROOM_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ROOM_ID_LENGTH = 10
# Each index page read while filtering a listing; bounds the work of one request.
INDEX_PAGE = 200
MAX_INDEX_PAGES = 10
# Ending a room lists its sales, then ends it with them unless one was created meanwhile;
# a pass is one round trip, so more than a few in a row means sales keep being created.
END_PASSES = 5


def new_room_id() -> str:
    """A random room id: 10 characters, ~50 bits, no look-alike characters."""
    return "".join(secrets.choice(ROOM_ID_ALPHABET) for _ in range(ROOM_ID_LENGTH))


def now_ms() -> int:
    return int(time.time() * 1000)


class RoomService:
    """Room lifecycle on the store."""

    def __init__(self, *, store: StoreContext, clock_ms: Callable[[], int] = now_ms) -> None:
        self._bus = store.bus
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._clock_ms = clock_ms

    async def create(
        self, anchor: str, title: str, description: str = "", cover_url: str = ""
    ) -> Room:
        """Create a scheduled room owned by ``anchor``."""
        created_at = self._clock_ms()
        for _ in range(5):
            room_id = new_room_id()
            reply = await self._scripts.call(
                RoomsCreateReply,
                [self._keys.room(room_id)],
                [room_id, title, description, anchor, created_at, cover_url],
            )
            if reply.created:
                await self._client.zadd(self._keys.rooms_index(), {room_id: created_at})
                return Room(
                    room_id,
                    title,
                    description,
                    anchor,
                    RoomStatus.scheduled,
                    created_at,
                    cover_url=cover_url,
                )
        raise RuntimeError("could not find a free room id in 5 tries")

    async def find(self, room_id: str) -> Room | None:
        fields = await self._client.hgetall(self._keys.room(room_id))
        return Room.from_hash(fields) if fields else None

    async def get(self, room_id: str) -> Room:
        """The room, or ApiError room_not_found."""
        room = await self.find(room_id)
        if room is None:
            raise ApiError(ErrorCode.room_not_found, f"No room with id {room_id!r}.")
        return room

    async def _load_many(self, room_ids: list[str]) -> list[Room]:
        if not room_ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for room_id in room_ids:
            pipe.hgetall(self._keys.room(room_id))
        results = await pipe.execute()
        return [Room.from_hash(fields) for fields in results if fields]

    async def live(self, limit: int) -> list[Room]:
        """Live rooms, latest to go live first, at most ``limit``."""
        live_ids = await self._client.zrevrange(self._keys.rooms_live(), 0, limit - 1)
        live = await self._load_many([as_text(i) for i in live_ids])
        return [room for room in live if room.status is RoomStatus.live]

    async def count_live(self) -> int:
        """How many rooms the live index holds (on every node)."""
        return int(await self._client.zcard(self._keys.rooms_live()))

    async def others(
        self, status: RoomStatus | None, limit: int, skip: Collection[str] = ()
    ) -> list[Room]:
        """Rooms of ``status`` (None: every room not live), newest first, leaving out ``skip``."""
        rooms: list[Room] = []
        for page in range(MAX_INDEX_PAGES):
            if len(rooms) >= limit:
                break
            start = page * INDEX_PAGE
            ids = await self._client.zrevrange(
                self._keys.rooms_index(), start, start + INDEX_PAGE - 1
            )
            if not ids:
                break
            batch = await self._load_many([as_text(i) for i in ids if as_text(i) not in skip])
            for room in batch:
                wanted = (
                    room.status is not RoomStatus.live if status is None else room.status is status
                )
                if wanted:
                    rooms.append(room)
        return rooms[:limit]

    async def go_live(self, room_id: str, session_id: str, origin: str, ttl_ms: int) -> Room:
        """Mark the room live with this media session (served by ``origin``) and tell everyone.

        The origin must call :meth:`heartbeat` within ``ttl_ms``, or any node's
        :meth:`expire_stale_live` takes the room offline. ApiError room_not_found /
        room_ended when it cannot go live.
        """
        started_at = self._clock_ms()
        reply = await self._scripts.call(
            RoomsGoLiveReply,
            [self._keys.room(room_id)],
            [started_at, session_id, origin, started_at + ttl_ms],
        )
        if reply.outcome is GoLive.no_room:
            raise ApiError(ErrorCode.room_not_found, f"No room with id {room_id!r}.")
        if reply.outcome is GoLive.room_ended:
            raise ApiError(ErrorCode.room_ended, f"Room {room_id!r} has ended.")
        room = await self.get(room_id)
        await self._client.zadd(self._keys.rooms_live(), {room_id: room.started_at or started_at})
        await self._bus.publish(
            room_id, {"type": "live", "room": room_id, "started_at": room.started_at}
        )
        return room

    async def heartbeat(self, room_id: str, session_id: str, ttl_ms: int) -> bool:
        """The origin still streams the room with this session; False when it should stop."""
        reply = await self._scripts.call(
            RoomsLiveHeartbeatReply,
            [self._keys.room(room_id)],
            [session_id, self._clock_ms() + ttl_ms],
        )
        return reply.refreshed

    async def go_offline(
        self, room_id: str, session_id: str, expired_before: int | None = None
    ) -> bool:
        """The media session ended: the room is not live any more (unless it was replaced).

        With ``expired_before``, only when the origin's heartbeat lapsed before then.
        """
        reply = await self._scripts.call(
            RoomsGoOfflineReply,
            [self._keys.room(room_id)],
            [session_id, "" if expired_before is None else expired_before],
        )
        if reply.outcome is not GoOffline.went_offline:
            return False
        await self._client.zrem(self._keys.rooms_live(), room_id)
        await self._bus.publish(room_id, {"type": "offline", "room": room_id})
        return True

    async def hand_over(self, room_id: str, session_id: str, deadline_ms: int) -> bool:
        """A draining node gives up the room's stream: the room stays live, without a
        session or origin, until its anchor goes live again elsewhere (:meth:`go_live`
        replaces nothing then and tells everyone ``live``) or ``deadline_ms`` passes
        (:meth:`expire_stale_live` takes it offline). Nothing is published: viewers see
        no ``offline`` step. False when the room is not live with this session."""
        reply = await self._scripts.call(
            RoomsHandOverReply, [self._keys.room(room_id)], [session_id, deadline_ms]
        )
        return reply.outcome is HandOver.handed_over

    async def expire_stale_live(
        self, limit: int = INDEX_PAGE, session_gone: Callable[[str], bool] = lambda _: False
    ) -> tuple[str, ...]:
        """Take offline the live rooms whose origin stopped its heartbeat (a node died),
        or whose session ``session_gone`` says no running node serves."""
        now = self._clock_ms()
        live_ids = await self._client.zrange(self._keys.rooms_live(), 0, limit - 1)
        expired: tuple[str, ...] = ()
        for room in await self._load_many([as_text(i) for i in live_ids]):
            if room.status is not RoomStatus.live:
                await self._client.zrem(self._keys.rooms_live(), room.id)
                continue
            if room.live_session is None:
                # Handed over by a draining node: offline once the anchor is late.
                if (room.live_until or 0) < now and await self.go_offline(room.id, "", now):
                    expired += (room.id,)
                continue
            if (room.live_until or 0) < now:
                if await self.go_offline(room.id, room.live_session, now):
                    expired += (room.id,)
            elif session_gone(room.live_session) and await self.go_offline(
                room.id, room.live_session
            ):
                expired += (room.id,)
        return expired

    async def end(self, room_id: str) -> Room:
        """End the room (idempotent) and tell every node; ApiError room_not_found if none.
        Its sales that have not ended end in the same atomic step, at the room's end."""
        keys = self._keys
        # Another pass only follows a sale created meanwhile (by the room's anchor).
        for _ in range(END_PASSES):
            sale_ids = [as_text(s) for s in await self._client.zrange(keys.sales(room_id), 0, -1)]
            reply = await self._scripts.call(
                RoomsEndReply,
                [
                    keys.room(room_id),
                    keys.sales(room_id),
                    *(keys.sale(room_id, s) for s in sale_ids),
                ],
                [self._clock_ms(), len(sale_ids)],
            )
            if reply.outcome is not RoomEnd.sales_changed:
                break
        else:
            raise ApiError(ErrorCode.conflict, "Sales were being created; end the room again.")
        if reply.outcome is RoomEnd.no_room:
            raise ApiError(ErrorCode.room_not_found, f"No room with id {room_id!r}.")
        await self._client.zrem(self._keys.rooms_live(), room_id)
        room = await self.get(room_id)
        # For the retention sweep (rooms/retention.py), which also finds a room whose
        # node died before this line.
        await self._client.zadd(
            self._keys.rooms_ended(), {room_id: room.ended_at or self._clock_ms()}, nx=True
        )
        if reply.outcome is RoomEnd.ended:
            await self._bus.publish(room_id, {"type": "room_ended", "room": room_id})
        return room
