"""Recording every publication of this node, and the replays it leaves.

The media hub tells :meth:`RecordingService.on_relays` when a publication makes
its relays; a :class:`~media.recorder.Recorder` is added to them as a second
consumer of the encoded frames (the viewers are the first), so recording never
decodes and never delays a viewer. The replay is indexed in the store at once
(``recording``) and completed when the recorder finishes (``ready``), with the
room's events of that time as its timeline.

Guarantees: one recording per publication (a same-anchor reconnect with the same
codecs keeps the relays, hence the recording); a recording that stops early (disk
cap, disk full, writer behind) keeps what it wrote, counts
``livecommerce_recordings_stopped_total{reason}`` and logs one line, and the live
stream goes on; recordings a killed node left are finalised by :meth:`start` of the
next node on the same directory; replays older than ``keep_days`` are deleted by
the sweep, files and index alike. A replay deleted while it records stops recording
first, whichever node is asked: another node marks it in the index and waits for this
one, which checks its recordings every ``DELETION_CHECK_S``; a node that was down
then removes the files at its start or sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from livecommerce.config import RecordingSettings
from livecommerce.context import StoreContext
from livecommerce.replays.deletion import DELETION_CHECK_S, NodeAlive, stop_elsewhere
from livecommerce.replays.index import DAY_MS, ReplayIndex
from livecommerce.replays.models import (
    CONTENT_TYPES,
    FILE_NAME,
    Replay,
    ReplayStatus,
    new_replay_id,
    room_of,
)
from livecommerce.replays.shop import IDEMPOTENCY_TTL_MS, ReplayShop
from livecommerce.replays.storage import ObjectStore, StorageError
from livecommerce.replays.timeline import ActiveSales, TimelineTap, order_counts, pinned_product
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import Supervisor
from media.disk import DiskBudget, tree_size
from media.playlist import Segment
from media.recorder import PackagerSettings, Recorder, RecordingResult
from media.recovery import finalise, read_state
from media.relay import TrackRelay

log = logging.getLogger("livecommerce.replays")

RECORDED_CODECS: Final = {"video/h264": "h264", "video/vp8": "vp8"}
TIMELINE_FLUSH_S: Final = 2.0
# A node shutting down waits this long for its recorders to close their files.
CLOSE_TIMEOUT_S: Final = 10.0


@dataclass
class Recording:
    """One recording in progress on this node."""

    replay_id: str
    room_id: str
    anchor: str
    codec: str
    recorder: Recorder
    tap: TimelineTap
    started_at: int
    live: bool = False
    opened: asyncio.Task[None] | None = None
    live_write: asyncio.Task[None] | None = None  # the last renewal of the live HLS pointer
    deleted: bool = False  # stopping because the replay was deleted

    @property
    def indexed(self) -> bool:
        """Whether the replay was written to the index (so its absence means deletion)."""
        opened = self.opened
        if opened is None or not opened.done() or opened.cancelled():
            return False
        return opened.exception() is None


def now_ms() -> int:
    return int(time.time() * 1000)


class RecordingService:
    def __init__(
        self,
        *,
        store: StoreContext,
        settings: RecordingSettings,
        data_dir: str,
        node_url: Callable[[], str],
        node_id: str = "",
        node_alive: NodeAlive | None = None,
        bucket: ObjectStore | None = None,
        sales: ActiveSales | None = None,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_MS / 1000,
    ) -> None:
        self.settings = settings
        self.root = Path(settings.dir) if settings.dir else Path(data_dir) / "recordings"
        self.index = ReplayIndex(store=store, keep_days=settings.keep_days)
        self.shop = ReplayShop(
            store=store, index=self.index, settings=settings, idempotency_ttl_s=idempotency_ttl_s
        )
        self.budget = DiskBudget(settings.max_disk_mb * 1024 * 1024)
        self._store = store
        self._node_url = node_url
        self._node_id = node_id
        self._node_alive = node_alive  # whether the node of that registry id is alive
        self._metrics = store.metrics
        self._packager = PackagerSettings(target_segment_s=settings.segment_s)
        self._active: dict[str, Recording] = {}
        self.bucket = bucket
        self._sales = sales
        self._tasks = Supervisor(logger=log)  # the loops
        self._work = Supervisor(logger=log)  # one-off store writes of recordings

    # Lifecycle

    async def start(self) -> None:
        """Finalise what a killed node left, count the disk in use, start the loops."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        await self._recover()
        self.budget = DiskBudget(self.budget.cap_bytes, tree_size(self.root))
        self._tasks.every(
            "replays-timeline",
            TIMELINE_FLUSH_S,
            self._flush_timelines,
            quiet=STORE_UNAVAILABLE_ERRORS,
            wait_first=True,
        )
        self._tasks.every(
            "replays-deletions",
            DELETION_CHECK_S,
            self._watch_deletions,
            quiet=STORE_UNAVAILABLE_ERRORS,
            wait_first=True,
        )
        self._tasks.every(
            "replays-sweep",
            self.settings.sweep_interval_s,
            self.sweep_once,
            quiet=STORE_UNAVAILABLE_ERRORS,
        )

    async def stop(self) -> None:
        """Close every recording (files complete), then stop the loops."""
        recordings = list(self._active.values())
        for recording in recordings:
            recording.recorder.close()
        if recordings:
            await asyncio.wait(
                [asyncio.ensure_future(r.recorder.wait()) for r in recordings],
                timeout=CLOSE_TIMEOUT_S,
            )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._work.join()  # the store learns the replays are ready
        await self._work.stop()
        await self._tasks.stop()

    # Recording (called by the media hub, on the event loop)

    def on_relays(self, room_id: str, publisher: str, relays: dict[str, TrackRelay]) -> None:
        """A publication made new relays for ``room_id``: record them when configured."""
        video = relays.get("video")
        if not self.settings.enabled or video is None:
            return
        codec = RECORDED_CODECS.get(video.mime_type.lower())
        if codec is None:
            return
        replay_id = new_replay_id(room_id)
        try:
            recorder = Recorder(
                self.root / replay_id,
                video.mime_type,
                with_audio="audio" in relays,
                settings=self._packager,
                budget=self.budget,
                on_done=lambda result: self._on_done(replay_id, result),
                on_segment=lambda segment: self._on_segment(replay_id, segment),
            )
        except OSError as exc:
            log.warning("cannot record room %s: %s", room_id, exc)
            self._metrics.recordings_stopped.inc("write_failed")
            return
        tap = TimelineTap(room_id, self.settings.timeline_chat_max)
        recording = Recording(replay_id, room_id, publisher, codec, recorder, tap, now_ms())
        self._active[replay_id] = recording
        for relay in relays.values():
            relay.add_consumer(recorder)
        self._metrics.recordings_started.inc()
        log.info("recording room %s as replay %s (%s)", room_id, replay_id, codec)
        recording.opened = self._work.spawn(f"replay-open-{replay_id}", self._opened(recording))

    async def _opened(self, recording: Recording) -> None:
        await self.index.create(
            recording.replay_id,
            recording.room_id,
            anchor=recording.anchor,
            node_url=self._node_url(),
            node_id=self._node_id,
            started_at=recording.started_at,
            video_codec=recording.codec,
            fmt=recording.recorder.format,
        )
        await self._store.bus.listen(recording.tap.listener)
        # Read after listening, so that nothing falls between the two (the tap drops repeats).
        pinned = await pinned_product(self._store, recording.room_id)
        sales = await self._sales.active(recording.room_id) if self._sales else []
        entries = recording.tap.opening(
            recording.started_at, pinned, [sale.to_json() for sale in sales]
        )
        await self.index.append_timeline(recording.room_id, recording.replay_id, entries)

    def _on_segment(self, replay_id: str, segment: Segment) -> None:
        recording = self._active.get(replay_id)
        if recording is None or recording.deleted:
            return
        # Every segment renews the live HLS pointer (its TTL outlives a killed node by 1 h).
        recording.live_write = self._work.spawn(
            f"replay-live-{recording.replay_id}",
            self.index.set_live(recording.room_id, recording.replay_id),
        )
        recording.live = True

    def _on_done(self, replay_id: str, result: RecordingResult) -> None:
        recording = self._active.pop(replay_id, None)
        if recording is None:
            return
        if result.stopped:
            self._metrics.recordings_stopped.inc(result.stopped)
            log.warning(
                "recording %s of room %s stopped early (%s); the live stream goes on",
                recording.replay_id,
                recording.room_id,
                result.stopped,
            )
        self._work.spawn(f"replay-done-{replay_id}", self._finished(recording, result))

    async def _finished(self, recording: Recording, result: RecordingResult) -> None:
        if recording.opened is not None:
            with contextlib.suppress(Exception):  # logged by the supervisor
                await recording.opened  # indexed and listening first, whatever came first
        await self._store.bus.unlisten(recording.tap.listener)
        if recording.deleted:
            return  # the deletion removes the rest
        ended_at = now_ms()
        replay = await self.index.get(recording.replay_id, deleting=True)
        if replay is None or replay.deleting:
            # Deleted (through another node) while it ended here.
            await self._discard(recording.room_id, recording.replay_id, replay)
            return
        if result.bytes_written == 0:
            # Nothing recorded (the publisher never connected, or no keyframe came): no replay.
            log.info("recording %s of room %s is empty; dropped", replay.id, replay.room)
            await self._discard(replay.room, replay.id, replay)
            return
        first_frame = recording.recorder.started_wall  # the media's 0 s, on the wall clock
        started_at = int(first_frame * 1000) if first_frame else recording.started_at
        entries = recording.tap.take()
        entries += await order_counts(self._store, recording.room_id, started_at, ended_at)
        await self.index.append_timeline(recording.room_id, recording.replay_id, entries)
        await self.index.clear_live(recording.room_id, recording.replay_id)
        await self.index.finish(
            replay,
            started_at=started_at,
            ended_at=ended_at,
            duration_s=result.duration_s,
            stopped=result.stopped,
        )
        if await self.index.deleted([(replay.room, replay.id)]) == [True]:
            await self._discard(replay.room, replay.id, replay)  # deleted as it finished
            return
        await self._upload(replay)

    async def _flush_timelines(self) -> None:
        for recording in list(self._active.values()):
            if recording.deleted:
                continue
            entries = recording.tap.take()
            if entries:
                await self.index.append_timeline(recording.room_id, recording.replay_id, entries)

    # Object storage

    async def _upload(self, replay: Replay) -> None:
        """Put a finished replay's files in the bucket (playlist last), then say so in the
        index and, unless ``s3_keep_local``, free the disk. A failure keeps the files here
        (served from this node) and is logged."""
        directory = self.local_directory(replay.id)
        if self.bucket is None or directory is None:
            return
        names = sorted(p.name for p in directory.iterdir() if FILE_NAME.match(p.name))
        names.sort(key=lambda name: name.endswith(".m3u8"))
        try:
            for name in names:
                body = await asyncio.to_thread((directory / name).read_bytes)
                content_type = CONTENT_TYPES["." + name.rsplit(".", 1)[1]]
                await self.bucket.put(self.bucket.key(replay.id, name), body, content_type)
        except (StorageError, OSError) as exc:
            log.warning("replay %s stays on this node: upload failed: %s", replay.id, exc)
            return
        await self.index.set_storage(replay, "s3", names)
        log.info("replay %s uploaded to bucket %s", replay.id, self.bucket.name)
        if not self.settings.s3_keep_local:
            await self._remove_files(directory)

    async def _delete_objects(self, replay: Replay) -> None:
        if self.bucket is None or replay.storage != "s3":
            return
        for name in replay.files:
            try:
                await self.bucket.delete(self.bucket.key(replay.id, name))
            except StorageError as exc:
                log.warning("replay %s: cannot delete %s from the bucket: %s", replay.id, name, exc)

    # Recovery and retention

    async def _recover(self) -> None:
        for directory in sorted(self.root.iterdir()):
            if not directory.is_dir() or room_of(directory.name) is None:
                continue
            try:
                result = await asyncio.to_thread(finalise, directory, self.settings.segment_s)
            except OSError as exc:
                log.warning("cannot finalise recording %s: %s", directory.name, exc)
                continue
            if result is None:
                continue
            log.info("finalised recording %s left by a stopped node", directory.name)
            self._metrics.recordings_stopped.inc("node_stopped")
            replay = await self.index.get(directory.name)
            if replay is None:
                continue  # the sweep removes files no replay names
            if result.duration_s <= 0:
                # Killed before its first segment: nothing to keep.
                await self._discard(replay.room, replay.id, replay)
                continue
            ended_at = replay.started_at + int(result.duration_s * 1000)
            entries = await order_counts(self._store, replay.room, replay.started_at, ended_at)
            await self.index.append_timeline(replay.room, replay.id, entries)
            await self.index.clear_live(replay.room, replay.id)
            await self.index.finish(
                replay,
                started_at=replay.started_at,
                ended_at=ended_at,
                duration_s=result.duration_s,
                stopped=result.stopped,
            )
            await self._upload(replay)

    async def sweep_once(self) -> None:
        """Delete this node's recordings older than ``keep_days`` or no longer indexed."""
        cutoff = now_ms() - int(self.settings.keep_days * DAY_MS)
        for directory in list(self.root.iterdir()):
            replay_id = directory.name
            if not directory.is_dir() or replay_id in self._active or room_of(replay_id) is None:
                continue
            replay = await self.index.get(replay_id)
            state = read_state(directory)
            too_old = directory.stat().st_mtime * 1000 < cutoff
            if replay is None and state is not None and state.get("state") == "recording":
                continue  # being finalised or indexed right now
            if replay is None or too_old or (replay.ended_at or now_ms()) < cutoff:
                await self._remove_files(directory)
                if replay is not None:
                    await self.index.delete(replay)

    async def _remove_files(self, directory: Path) -> None:
        size = await asyncio.to_thread(tree_size, directory)
        await asyncio.to_thread(shutil.rmtree, directory, True)
        self.budget.give_back(size)

    # Queries and deletion

    def is_recording(self, replay_id: str) -> bool:
        return replay_id in self._active

    def local_directory(self, replay_id: str) -> Path | None:
        """The replay's files, when this node holds them."""
        if room_of(replay_id) is None:
            return None
        directory = self.root / replay_id
        return directory if directory.is_dir() else None

    def live_directory(self, room_id: str) -> Path | None:
        """The HLS files of the room's recording in progress here (None: not here)."""
        for recording in self._active.values():
            if recording.room_id == room_id and recording.live and not recording.deleted:
                return self.root / recording.replay_id
        return None

    async def hls_path(self, room_id: str) -> str | None:
        """The live room's HLS playlist path, when an H.264 recording of it has a segment."""
        if await self.index.live(room_id) is None:
            return None
        return f"/hls/{room_id}/index.m3u8"

    async def delete(self, replay: Replay) -> None:
        """Delete the replay. A recording in progress stops first: here, or on the node
        recording it, which is waited for (``DELETE_WAIT_S`` at most: a node that does not
        answer by then removes its files at its next start or sweep). Then the index
        entry, timeline and live HLS pointer go, the bucket's objects, and the files
        when they are here (another node's sweep removes its own once the index no
        longer names them)."""
        recording = self._active.get(replay.id)
        if recording is not None:
            await self._stop_deleted(recording)
        elif replay.status is ReplayStatus.recording and not self._records_here(replay):
            await stop_elsewhere(self.index, replay, self._node_alive)
        await self._discard(replay.room, replay.id, replay)

    def _records_here(self, replay: Replay) -> bool:
        if replay.node_id and self._node_id:
            return replay.node_id == self._node_id
        return replay.node_url == self._node_url()

    async def _discard(self, room_id: str, replay_id: str, replay: Replay | None) -> None:
        """Forget the replay in the index, delete its objects and its files here."""
        await self.index.forget(room_id, replay_id)
        if replay is not None:
            await self._delete_objects(replay)
        directory = self.local_directory(replay_id)
        if directory is not None:
            await self._remove_files(directory)

    async def _stop_deleted(self, recording: Recording) -> None:
        """Stop a deleted recording: its live HLS ends here at once, its files complete."""
        recording.deleted = True
        recording.recorder.close()
        await recording.recorder.wait()
        if recording.live_write is not None:
            # A renewal landing after the deletion would announce live HLS for an hour.
            with contextlib.suppress(Exception):  # logged by the supervisor
                await recording.live_write

    async def _watch_deletions(self) -> None:
        """Stop this node's recordings whose replay was deleted through another node
        (marked for deletion, or no longer indexed)."""
        watched = [r for r in self._active.values() if not r.deleted and r.indexed]
        if not watched:
            return
        deleted = await self.index.deleted([(r.room_id, r.replay_id) for r in watched])
        for recording, gone in zip(watched, deleted, strict=True):
            if gone and not recording.deleted:
                log.info("replay %s was deleted: its recording stops", recording.replay_id)
                recording.deleted = True  # spawned once
                self._work.spawn(
                    f"replay-delete-{recording.replay_id}", self._delete_stopped(recording)
                )

    async def _delete_stopped(self, recording: Recording) -> None:
        await self._stop_deleted(recording)
        await self._discard(recording.room_id, recording.replay_id, None)
