"""On a cluster, a client whose connections are all busy makes the next commands wait
their turn (bounded), then answers a clear error — it does not fail them at once."""

from __future__ import annotations

import asyncio
import time

from redis.exceptions import ConnectionError as StoreConnectionError

from livecommerce.metrics import Metrics
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.client import connect
from livecommerce.store.lua import ScriptRunner
from tests.store_cluster import ValkeyCluster

CALLS = 20
BLOCK_S = 0.3  # each call holds its connection this long (BLPOP on an empty list)


async def test_busy_cluster_connections_make_commands_wait_their_turn(
    valkey_cluster: ValkeyCluster, key_prefix: str
) -> None:
    client = connect(
        valkey_cluster.url, connect_timeout_s=2.0, command_timeout_s=10.0, retries=0,
        max_connections=2,
    )  # fmt: skip
    try:
        began = time.monotonic()
        answers = await asyncio.gather(
            *(client.blpop([f"{key_prefix}{{q}}:empty"], timeout=BLOCK_S) for _ in range(CALLS))
        )
        assert answers == [None] * CALLS  # every call waited and ran; none failed
        # Two at a time: the calls took about CALLS / 2 turns.
        assert time.monotonic() - began >= (CALLS / 2 - 1) * BLOCK_S
    finally:
        await client.aclose()


async def test_a_wait_past_the_command_timeout_answers_no_connection_available(
    valkey_cluster: ValkeyCluster, key_prefix: str
) -> None:
    wait_s = 1.0
    client = connect(
        valkey_cluster.url, connect_timeout_s=2.0, command_timeout_s=wait_s, retries=0,
        max_connections=1,
    )  # fmt: skip

    async def timed() -> tuple[object, float]:
        began = time.monotonic()
        try:
            return await client.blpop([f"{key_prefix}{{q}}:empty"], timeout=BLOCK_S), 0.0
        except StoreConnectionError as error:
            return error, time.monotonic() - began

    try:
        results = await asyncio.gather(*(timed() for _ in range(CALLS)))
        served = [r for r, _ in results if r is None]
        refused = [(r, took) for r, took in results if isinstance(r, StoreConnectionError)]
        assert len(served) + len(refused) == CALLS
        assert served, "no call got a turn"
        assert refused, "every call got a turn: the wait was not bounded"
        for error, took in refused:
            assert str(error) == "No connection available."
            assert wait_s * 0.9 <= took < wait_s + 5.0  # waited its bound, then answered
    finally:
        await client.aclose()


async def test_buy_batches_in_flight_wait_their_turn_for_a_connection_too(
    valkey_cluster: ValkeyCluster, key_prefix: str
) -> None:
    """Batches sent in consecutive ticks, each holding its master's one connection for a
    while, wait for it instead of failing at once with MaxConnectionsError."""
    client = connect(
        valkey_cluster.url, connect_timeout_s=2.0, command_timeout_s=10.0, retries=0,
        max_connections=1,
    )  # fmt: skip
    batcher = StoreBatcher(
        client, scripts=ScriptRunner(client, metrics=Metrics()), metrics=Metrics()
    )
    try:
        calls = []
        for _ in range(5):  # one batch per tick, all to the master of {q}
            calls.append(
                asyncio.ensure_future(batcher.command("BLPOP", f"{key_prefix}{{q}}:empty", BLOCK_S))
            )
            await asyncio.sleep(0.01)
        assert await asyncio.gather(*calls) == [None] * 5
        assert batcher.pipelines_sent == 5
    finally:
        await batcher.aclose()
        await client.aclose()


async def test_pipelines_wait_their_turn_like_commands(
    valkey_cluster: ValkeyCluster, key_prefix: str
) -> None:
    """Pipelines (over two nodes each) and commands on a one-connection pool: all run, in
    turn, none fails at once with MaxConnectionsError; a wait past the bound answers the
    same clear error as a command."""
    client = connect(
        valkey_cluster.url, connect_timeout_s=2.0, command_timeout_s=10.0, retries=0,
        max_connections=1,
    )  # fmt: skip

    async def piped(n: int) -> list[object]:
        pipe = client.pipeline(transaction=False)
        pipe.blpop([f"{key_prefix}{{q}}:empty"], timeout=BLOCK_S)
        pipe.set(f"{key_prefix}{{other}}:{n}", n)  # another slot (and node) in the same pipeline
        pipe.get(f"{key_prefix}{{other}}:{n}")
        return list(await pipe.execute())

    try:
        began = time.monotonic()
        mixed = await asyncio.gather(
            *(piped(n) for n in range(5)),
            *(client.blpop([f"{key_prefix}{{q}}:empty"], timeout=BLOCK_S) for _ in range(3)),
        )
        assert mixed[:5] == [[None, True, str(n).encode()] for n in range(5)]
        assert mixed[5:] == [None] * 3
        assert time.monotonic() - began >= 7 * BLOCK_S  # one at a time
    finally:
        await client.aclose()

    bounded = connect(
        valkey_cluster.url, connect_timeout_s=2.0, command_timeout_s=1.0, retries=0,
        max_connections=1,
    )  # fmt: skip
    client = bounded
    try:
        results = await asyncio.gather(*(piped(n) for n in range(CALLS)), return_exceptions=True)
        refused = [r for r in results if isinstance(r, Exception)]
        assert refused, "every pipeline got a turn: the wait was not bounded"
        assert len(refused) < CALLS, "no pipeline got a turn"
        assert {str(error) for error in refused} == {"No connection available."}
        assert all(isinstance(error, StoreConnectionError) for error in refused)
    finally:
        await bounded.aclose()
