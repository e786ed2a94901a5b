"""Likes: summed locally, added to the room's total (and discovery counts) and broadcast
at most every interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from livecommerce.bus import RoomBus
from livecommerce.config import DiscoverySettings
from livecommerce.metrics import Metrics
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.tasks import stop_loop

log = logging.getLogger("livecommerce.likes")


class LikeCounter:
    """Batches likes per room; one store script and one broadcast per room per interval.

    A like that cannot reach the store (store down) is kept and retried at the
    next interval, so none are lost while the node runs.
    """

    def __init__(
        self,
        client: StoreClient,
        keys: Keys,
        scripts: ScriptRunner,
        bus: RoomBus,
        interval_s: float,
        discovery: DiscoverySettings,
        metrics: Metrics | None = None,
    ) -> None:
        self._likes = (metrics or Metrics()).likes
        self._client = client
        self._keys = keys
        self._scripts = scripts
        self._discovery = discovery
        self._bus = bus
        self._interval_s = interval_s
        # room → (likes to add to the total, of which viewers' likes counted for discovery)
        self._pending: dict[str, tuple[int, int]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def add(self, room_id: str, count: int, engaging: bool = True) -> None:
        """Queue likes; ``engaging`` False (the anchor's, staff's) leaves discovery out."""
        self._likes.inc(count)
        self._queue(room_id, count, count if engaging else 0)

    def _queue(self, room_id: str, count: int, engaging: int) -> None:
        queued, queued_engaging = self._pending.get(room_id, (0, 0))
        self._pending[room_id] = (queued + count, queued_engaging + engaging)

    async def total(self, room_id: str) -> int:
        value = await self._client.hget(self._keys.room_counters(room_id), "likes")
        return int(value or 0)

    async def flush(self) -> None:
        """Add pending likes to the store and broadcast each changed room's total."""
        pending, self._pending = self._pending, {}
        for room_id, (count, engaging) in pending.items():
            try:
                total = await self._scripts.run(
                    "likes_add",
                    [self._keys.room_counters(room_id), self._keys.room_engagement(room_id)],
                    [count, engaging, self._discovery.bucket_ms, self._discovery.buckets],
                )
            except STORE_UNAVAILABLE_ERRORS:
                self._queue(room_id, count, engaging)
                continue
            with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
                await self._bus.publish(room_id, {"type": "likes", "total": int(total)})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="like-counter")

    async def stop(self) -> None:
        await stop_loop(self._stopping, self._task)
        self._task = None
        with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
            await self.flush()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(self._interval_s)
            try:
                await self.flush()
            except Exception:
                log.exception("flushing likes failed")
