"""The replays' index in the store: one hash per replay, the room's list, the recent list,
the timeline entries and the live HLS pointer (keys and bounds in ``store/keys.py``).

None of this moves money or stock, so plain commands (pipelined) are enough: a node
that dies between two of them leaves a replay the next start or sweep completes.
"""

from __future__ import annotations

import json
from typing import Any, Final

from livecommerce.context import StoreContext
from livecommerce.replays.models import Replay, ReplayStatus, room_of
from livecommerce.store.decoding import as_text, decode_entries

RECENT_KEEP: Final = 1000
LIVE_HLS_TTL_S: Final = 3600
DAY_MS: Final = 86_400_000
# Pins, sales and order counts are few; chat is capped before it gets here.
TIMELINE_MAXLEN: Final = 10_000
# A replay marked for deletion is gone once its recording node stops it; should nobody
# finish the job (both nodes died), the mark expires on its own.
DELETING_TTL_MS: Final = 3_600_000


class ReplayIndex:
    def __init__(self, *, store: StoreContext, keep_days: float) -> None:
        self._client = store.client
        self._keys = store.keys
        self._keep_ms = int(keep_days * DAY_MS)

    async def create(
        self,
        replay_id: str,
        room_id: str,
        *,
        anchor: str,
        node_url: str,
        started_at: int,
        video_codec: str,
        fmt: str,
        node_id: str = "",
    ) -> None:
        key = self._keys.replay(room_id, replay_id)
        room_list = self._keys.replays(room_id)
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hset(
                key,
                mapping={
                    "id": replay_id,
                    "room": room_id,
                    "anchor": anchor,
                    "node_url": node_url,
                    "node": node_id,
                    "started_at": started_at,
                    "video_codec": video_codec,
                    "format": fmt,
                    "status": ReplayStatus.recording.value,
                },
            )
            pipe.pexpire(key, self._keep_ms)
            pipe.zadd(room_list, {replay_id: started_at})
            pipe.zremrangebyscore(room_list, "-inf", started_at - self._keep_ms)
            pipe.pexpire(room_list, self._keep_ms)
            await pipe.execute()

    async def finish(
        self,
        replay: Replay,
        *,
        started_at: int,
        ended_at: int,
        duration_s: float,
        stopped: str | None,
    ) -> None:
        """The recording is complete: its times, length, and the recent list."""
        key = self._keys.replay(replay.room, replay.id)
        recent = self._keys.recent_replays()
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hset(
                key,
                mapping={
                    "started_at": started_at,
                    "ended_at": ended_at,
                    "duration_s": f"{duration_s:.3f}",
                    "status": ReplayStatus.ready.value,
                    "stopped": stopped or "",
                },
            )
            pipe.pexpire(key, self._keep_ms)
            pipe.pexpire(self._keys.replay_timeline(replay.room, replay.id), self._keep_ms)
            pipe.zadd(recent, {f"{replay.room} {replay.id}": ended_at})
            pipe.zremrangebyscore(recent, "-inf", ended_at - self._keep_ms)
            pipe.zremrangebyrank(recent, 0, -RECENT_KEEP - 1)
            await pipe.execute()

    async def set_storage(self, replay: Replay, storage: str, files: list[str]) -> None:
        """The replay's files now live in ``storage`` ("s3")."""
        await self._client.hset(
            self._keys.replay(replay.room, replay.id),
            mapping={"storage": storage, "files": json.dumps(files)},
        )

    async def get(self, replay_id: str, *, deleting: bool = False) -> Replay | None:
        """The replay; None when unknown, or marked for deletion unless ``deleting``."""
        room_id = room_of(replay_id)
        if room_id is None:
            return None
        fields = await self._client.hgetall(self._keys.replay(room_id, replay_id))
        replay = Replay.from_hash(_text_map(fields)) if fields else None
        if replay is not None and replay.deleting and not deleting:
            return None
        return replay

    async def of_room(self, room_id: str, limit: int = 50) -> list[Replay]:
        """The room's replays, newest first."""
        ids = await self._client.zrevrange(self._keys.replays(room_id), 0, limit - 1)
        return await self._load([(room_id, _str(i)) for i in ids])

    async def recent(self, limit: int = 20) -> list[Replay]:
        """Finished replays of every room, newest first."""
        members = await self._client.zrevrange(self._keys.recent_replays(), 0, limit - 1)
        pairs = [tuple(_str(m).split(" ", 1)) for m in members]
        return await self._load([(p[0], p[1]) for p in pairs if len(p) == 2])

    async def _load(self, pairs: list[tuple[str, str]]) -> list[Replay]:
        if not pairs:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for room_id, replay_id in pairs:
                pipe.hgetall(self._keys.replay(room_id, replay_id))
            rows: list[Any] = await pipe.execute()
        replays = [Replay.from_hash(_text_map(row)) for row in rows if row]
        return [r for r in replays if not r.deleting]

    async def delete(self, replay: Replay) -> None:
        await self.forget(replay.room, replay.id)

    async def forget(self, room_id: str, replay_id: str) -> None:
        """Remove the replay's entry, timeline, list places and live HLS pointer."""
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.delete(self._keys.replay(room_id, replay_id))
            pipe.delete(self._keys.replay_timeline(room_id, replay_id))
            pipe.zrem(self._keys.replays(room_id), replay_id)
            pipe.zrem(self._keys.recent_replays(), f"{room_id} {replay_id}")
            await pipe.execute()
        await self.clear_live(room_id, replay_id)

    async def mark_deleting(self, replay: Replay) -> None:
        """Hide the replay and tell its recording node to stop it (:meth:`states`)."""
        key = self._keys.replay(replay.room, replay.id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(key, "deleting", "1")
            pipe.pexpire(key, DELETING_TTL_MS)
            await pipe.execute()

    async def exists(self, replay: Replay) -> bool:
        return bool(await self._client.exists(self._keys.replay(replay.room, replay.id)))

    async def deleted(self, pairs: list[tuple[str, str]]) -> list[bool]:
        """For each (room, replay): whether it is no longer indexed or marked for deletion."""
        async with self._client.pipeline(transaction=False) as pipe:
            for room_id, replay_id in pairs:
                pipe.hmget(self._keys.replay(room_id, replay_id), ["id", "deleting"])
            rows: list[Any] = await pipe.execute()
        return [not row[0] or _str(row[1] or b"") == "1" for row in rows]

    # Timeline

    async def append_timeline(
        self, room_id: str, replay_id: str, entries: list[dict[str, Any]]
    ) -> None:
        if not entries:
            return
        key = self._keys.replay_timeline(room_id, replay_id)
        async with self._client.pipeline(transaction=False) as pipe:
            for entry in entries:
                data = json.dumps(entry, separators=(",", ":"))
                pipe.xadd(key, {"e": data}, maxlen=TIMELINE_MAXLEN, approximate=True)
            pipe.pexpire(key, self._keep_ms)
            await pipe.execute()

    async def timeline(self, replay: Replay) -> list[dict[str, Any]]:
        """The entries with ``t``: seconds from the replay's start, in time order."""
        key = self._keys.replay_timeline(replay.room, replay.id)
        entries: list[dict[str, Any]] = []
        for _, fields in decode_entries(await self._client.xrange(key)):
            entry = json.loads(fields.get("e", "{}"))
            at = int(entry.pop("at", replay.started_at))
            entries.append({"t": round(max(0, at - replay.started_at) / 1000, 3), **entry})
        entries.sort(key=lambda e: float(e["t"]))
        return entries

    # Live HLS

    async def set_live(self, room_id: str, replay_id: str) -> None:
        await self._client.set(self._keys.live_hls(room_id), replay_id, ex=LIVE_HLS_TTL_S)

    async def clear_live(self, room_id: str, replay_id: str) -> None:
        key = self._keys.live_hls(room_id)
        if _str(await self._client.get(key) or b"") == replay_id:
            await self._client.delete(key)

    async def live(self, room_id: str) -> str | None:
        value = await self._client.get(self._keys.live_hls(room_id))
        return _str(value) if value else None


def _str(value: object) -> str:
    return as_text(value)


def _text_map(fields: Any) -> dict[str, str]:
    return {as_text(k): as_text(v) for k, v in dict(fields).items()}
