"""Watch time is not lost when the store is away for a report: the spans a node could
not send are sent with its next report, once the store is back (restarted from its AOF)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from livecommerce.analytics.watch import WatchTracker
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, connect
from livecommerce.store.decoding import as_text
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from tests.store_context import store_context


async def test_spans_a_failed_report_held_are_credited_by_the_next(
    tmp_path: Path, key_prefix: str
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    client = connect(store.url, connect_timeout_s=1, command_timeout_s=2, retries=1)
    keys = Keys(key_prefix)
    tracker = WatchTracker(store=store_context(client, key_prefix), interval_s=60)
    try:
        await client.hset(keys.room("r1"), mapping={"id": "r1", "status": "live"})
        began = time.monotonic()
        tracker.joined("r1", "u")
        await asyncio.sleep(1.0)
        await tracker.flush()
        await asyncio.sleep(1.0)
        assert store.pid is not None
        os.kill(store.pid, signal.SIGKILL)
        with pytest.raises(STORE_UNAVAILABLE_ERRORS):
            await tracker.flush()
        await asyncio.sleep(0.5)
        tracker.left("r1", "u")
        watched_s = time.monotonic() - began

        store.stop()  # reaps the killed process; the next one starts on the same files
        store = EmbeddedValkey(tmp_path / "store")
        store.start()
        for _ in range(20):
            try:
                await client.ping()
                break
            except STORE_UNAVAILABLE_ERRORS:
                await asyncio.sleep(0.2)
        await tracker.flush()

        span = await client.hget(keys.watch_spans("r1"), "u")
        assert span is not None
        ms = int(as_text(span).split(":")[0])
        assert abs(ms / 1000 - watched_s) <= 0.5, (ms, watched_s)
        assert int(await client.hget(keys.room_watch("r1"), "u") or -1) == ms // 1000
    finally:
        await client.aclose()
        store.stop()
