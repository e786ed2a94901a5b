"""One tick's store calls as one pipeline, against the real store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import ResponseError

from livecommerce.metrics import Metrics
from livecommerce.store import client as store_client
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from tests.conftest import ON_CLUSTER

MASTERS = 3 if ON_CLUSTER else 1


@pytest.fixture
async def store(valkey: EmbeddedValkey) -> AsyncIterator[aioredis.Redis]:
    client = store_client.connect(valkey.url, 2.0, 5.0, 0, max_connections=4)
    yield client
    await client.aclose()


def batcher_on(client: aioredis.Redis) -> StoreBatcher:
    metrics = Metrics()
    return StoreBatcher(client, scripts=ScriptRunner(client, metrics=metrics), metrics=metrics)


def create_room(batcher: StoreBatcher, keys: Keys, room: str) -> asyncio.Future[int]:
    return asyncio.ensure_future(
        batcher.script("rooms_create", [keys.room(room)], [room, "t", "", "alice", 1])
    )


async def test_calls_of_one_tick_share_pipelines_and_each_gets_its_own_answer(
    store: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    scripts = ScriptRunner(store, metrics=Metrics())
    await scripts.load("rooms_create")
    batcher = StoreBatcher(store, scripts=scripts, metrics=Metrics(), max_batch=256)
    rooms = [f"room{n}" for n in range(1000)]
    first = await asyncio.gather(*(create_room(batcher, keys, room) for room in rooms[:500]))
    assert first == [1] * 500
    # 500 calls in one tick, at most 256 per pipeline, one write per master on a cluster.
    assert batcher.pipelines_sent == 2 * MASTERS
    # The second round repeats 500 rooms (refused: 0) and adds 500 (created: 1).
    second = await asyncio.gather(*(create_room(batcher, keys, room) for room in rooms))
    assert second == [0] * 500 + [1] * 500
    assert batcher.pipelines_sent == (2 + 4) * MASTERS
    assert await store.hget(keys.room("room999"), "anchor") == b"alice"
    await batcher.aclose()


async def test_a_failing_call_fails_only_its_caller(store: aioredis.Redis, key_prefix: str) -> None:
    batcher = batcher_on(store)
    # One hash tag: one node, one pipeline, on a cluster too.
    text_key, counter_key = f"{key_prefix}{{t}}text", f"{key_prefix}{{t}}counter"
    await store.set(text_key, "not a number")
    results = await asyncio.gather(
        batcher.command("INCR", counter_key),
        batcher.command("INCR", text_key),
        batcher.command("INCR", counter_key),
        return_exceptions=True,
    )
    assert results[0] == 1
    assert isinstance(results[1], ResponseError)
    assert results[2] == 2
    assert batcher.pipelines_sent == 1


async def test_scripts_the_store_forgot_are_loaded_and_run_once(
    store: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    batcher = batcher_on(store)
    await store.script_flush()
    answers = await asyncio.gather(
        create_room(batcher, keys, "a"),
        batcher.command("INCR", f"{key_prefix}n"),
        create_room(batcher, keys, "b"),
        create_room(batcher, keys, "a"),
    )
    # Within one pipeline the calls keep their order: the second "a" sees the first.
    assert answers == [1, 1, 1, 0]
    assert await store.get(f"{key_prefix}n") == b"1"  # the plain command ran once


async def test_a_caller_that_goes_away_loses_nothing_for_the_others(
    store: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    batcher = batcher_on(store)
    leaving = create_room(batcher, keys, "leaving")
    staying = create_room(batcher, keys, "staying")
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == 1
    await batcher.aclose()
    # The store still did the leaving caller's work: the call was already sent.
    assert await store.exists(keys.room("leaving")) == 1


async def test_an_unreachable_store_fails_every_caller_of_the_batch(key_prefix: str) -> None:
    client = store_client.connect("redis://127.0.0.1:9", 0.5, 0.5, 0)
    batcher = batcher_on(client)
    try:
        results = await asyncio.gather(
            *(batcher.command("INCR", f"{key_prefix}n") for _ in range(3)),
            return_exceptions=True,
        )
        assert all(isinstance(result, StoreConnectionError) for result in results), results
    finally:
        await client.aclose()
