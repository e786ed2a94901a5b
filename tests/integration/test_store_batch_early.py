"""A batch's callers are answered one by one as the store's answers arrive: a caller whose
call is done is not held back by a slow call queued after it in the same pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from livecommerce.metrics import Metrics
from livecommerce.store import client as store_client
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.lua import ScriptRunner
from tests.conftest import ON_CLUSTER

pytestmark = pytest.mark.skipif(ON_CLUSTER, reason="one pipeline to one store process")
# A script that keeps the store busy for a while (a Lua loop: the store's clock stands
# still inside a script), after 64 KB of comment: the store reads a pipeline in chunks of
# 16 KB and sends the answers of each chunk before reading the next, so the calls in
# front of this one are answered before it runs.
SLOW = "--" + "x" * 65_536 + "\nlocal n = 0\nfor i = 1, 50000000 do n = n + i end\nreturn 'slow'"


@pytest.fixture
async def store(valkey: EmbeddedValkey) -> AsyncIterator[aioredis.Redis]:
    client = store_client.connect(valkey.url, 2.0, 60.0, 0, max_connections=4)
    yield client
    await client.aclose()


@pytest.mark.timeout(180)
async def test_a_fast_call_is_answered_before_a_slow_one_behind_it_ends(
    store: aioredis.Redis, key_prefix: str
) -> None:
    metrics = Metrics()
    batcher = StoreBatcher(store, scripts=ScriptRunner(store, metrics=metrics), metrics=metrics)
    fast = asyncio.ensure_future(batcher.command("SET", f"{key_prefix}fast", "1"))
    slow = asyncio.ensure_future(batcher.command("EVAL", SLOW, 0))

    assert await asyncio.wait_for(fast, 5.0) == b"OK"
    assert not slow.done()
    assert await asyncio.wait_for(slow, 120.0) == b"slow"
    assert batcher.pipelines_sent == 1
    await batcher.aclose()
