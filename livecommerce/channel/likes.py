"""Likes: summed locally per user, passed through each user's like budget in the store,
added to the room's total (and discovery counts) and broadcast at most every interval."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from livecommerce.config import ChannelSettings, DiscoverySettings
from livecommerce.context import StoreContext
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.store.replies import LikesAddReply
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.likes")


@dataclass
class PendingLikes:
    """A user's likes in a room since the last flush."""

    sent: int = 0
    from_viewer: int = 0  # of ``sent``: those that may count for discovery


class LikeCounter:
    """Batches likes per room and user; one store script and one broadcast per room per
    interval.

    Guarantees: each user's likes in a room pass one token bucket
    (``channel.user_likes_burst``, refilled at ``channel.user_likes_per_s``) shared by
    all of the user's sockets on every node; likes over it are dropped without an
    answer. Of the likes kept, a viewer's count for discovery up to
    ``discovery.max_likes_per_user`` per window. A like that cannot reach the store
    (store down) is kept and retried at the next interval.
    """

    def __init__(
        self, *, store: StoreContext, settings: ChannelSettings, discovery: DiscoverySettings
    ) -> None:
        self._likes = store.metrics.likes
        self._client = store.client
        self._keys = store.keys
        self._scripts = store.scripts
        self._settings = settings
        self._discovery = discovery
        self._bus = store.bus
        self._pending: dict[str, dict[str, PendingLikes]] = {}
        self._tasks = Supervisor(logger=log)

    def add(self, room_id: str, user: str, count: int, engaging: bool = True) -> None:
        """Queue ``user``'s likes; ``engaging`` False (the anchor's, staff's) leaves
        discovery out."""
        self._likes.inc(count)
        self._queue(room_id, user, PendingLikes(count, count if engaging else 0))

    def _queue(self, room_id: str, user: str, likes: PendingLikes) -> None:
        queued = self._pending.setdefault(room_id, {}).setdefault(user, PendingLikes())
        queued.sent += likes.sent
        queued.from_viewer += likes.from_viewer

    async def total(self, room_id: str) -> int:
        value = await self._client.hget(self._keys.room_counters(room_id), "likes")
        return int(value or 0)

    async def flush(self) -> None:
        """Add pending likes to the store and broadcast each changed room's total."""
        pending, self._pending = self._pending, {}
        for room_id, users in pending.items():
            try:
                added = await self._add(room_id, users)
            except STORE_UNAVAILABLE_ERRORS:
                for user, likes in users.items():
                    self._queue(room_id, user, likes)
                continue
            if added.kept > 0:
                with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
                    await self._bus.publish(room_id, {"type": "likes", "total": added.total})

    async def _add(self, room_id: str, users: dict[str, PendingLikes]) -> LikesAddReply:
        """What ``likes_add`` did with one room's batch."""
        keys = [self._keys.room_counters(room_id), self._keys.room_engagement(room_id)]
        args: list[int | float] = [
            self._settings.user_likes_burst,
            self._settings.user_likes_per_s,
            self._discovery.max_likes_per_user,
            self._discovery.bucket_ms,
            self._discovery.buckets,
        ]
        for user, likes in users.items():
            keys.append(self._keys.user_likes(room_id, user))
            args += [likes.sent, likes.from_viewer]
        return await self._scripts.call(LikesAddReply, keys, args)

    def start(self) -> None:
        self._tasks.every(
            "like-counter", self._settings.likes_interval_s, self.flush, wait_first=True
        )

    async def stop(self) -> None:
        """Stop the loop, then flush what is pending once more."""
        await self._tasks.stop()
        with contextlib.suppress(*STORE_UNAVAILABLE_ERRORS):
            await self.flush()
