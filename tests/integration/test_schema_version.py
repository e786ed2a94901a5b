"""The store's schema version: stamped by the first node, a newer one stops a node with
one line, and migrations run once, under a lock, however many nodes start together."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livecommerce.app import create_app
from livecommerce.config import is_cluster_url
from livecommerce.metrics import Metrics
from livecommerce.server import run_node
from livecommerce.store import client as store_client
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.store.schema import (
    SCHEMA_VERSION,
    Migration,
    SchemaMigrationError,
    SchemaTooNewError,
    ensure_schema,
)
from tests.conftest import make_settings
from tests.integration.nodes import clean_env, run_cli
from tests.integration.tcp_proxy import TcpProxy


def connect(url: str) -> store_client.StoreClient:
    return store_client.connect(url, connect_timeout_s=2, command_timeout_s=5, retries=2)


async def test_a_node_stamps_the_version_on_a_fresh_store(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> None:
    settings = make_settings(valkey.url, tmp_path, key_prefix)
    said: list[str] = []
    stop_when_listening = asyncio.get_running_loop().create_future()

    def say(line: str) -> None:
        said.append(line)
        if not stop_when_listening.done():
            stop_when_listening.set_result(None)

    node = asyncio.create_task(run_node(settings, say=say))
    await asyncio.wait_for(stop_when_listening, 30)
    store = connect(valkey.url)
    try:
        keys = Keys(key_prefix)
        assert await store.get(keys.schema_version()) == str(SCHEMA_VERSION).encode()
        assert await store.exists(keys.schema_lock()) == 0
    finally:
        node.cancel()
        with pytest.raises(asyncio.CancelledError):
            await node
        await store.aclose()


async def test_a_node_refuses_a_store_with_a_newer_schema(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> None:
    store = connect(valkey.url)
    keys = Keys(key_prefix)
    await store.set(keys.schema_version(), SCHEMA_VERSION + 1)
    try:
        said: list[str] = []
        settings = make_settings(valkey.url, tmp_path, key_prefix)
        with pytest.raises(SchemaTooNewError) as refused:
            await run_node(settings, say=said.append)
        assert said == []  # it never listened
        message = str(refused.value)
        assert "\n" not in message
        assert f"schema version {SCHEMA_VERSION + 1}" in message
        assert f"({SCHEMA_VERSION})" in message
        # The newer release's version is left as it was, and no node was registered.
        assert await store.get(keys.schema_version()) == str(SCHEMA_VERSION + 1).encode()
        assert await store.hlen(keys.nodes()) == 0
    finally:
        await store.aclose()


@pytest.mark.slow
def test_serve_says_one_line_and_exits_1_against_a_newer_schema(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> None:
    async def set_newer() -> None:
        store = connect(valkey.url)
        await store.set(Keys(key_prefix).schema_version(), SCHEMA_VERSION + 5)
        await store.aclose()

    asyncio.run(set_newer())
    env = clean_env(LIVECOMMERCE_STORE_KEY_PREFIX=key_prefix)
    result = run_cli(
        "serve", "--port", "0", "--data-dir", str(tmp_path), "--redis-url", valkey.url, env=env
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("livecommerce:")]
    assert lines == [
        f"livecommerce: the store holds schema version {SCHEMA_VERSION + 5}, newer than this "
        f"release knows ({SCHEMA_VERSION}): upgrade this node, or point it at another store "
        "(docs/operations.md, Upgrades)"
    ], result.stderr
    assert "listening" not in result.stdout


async def test_migrations_run_once_under_the_lock_when_nodes_start_together(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    runs = f"{key_prefix}test:migration-runs"

    def step(to_version: int) -> Migration:
        async def run(client: store_client.StoreClient, keys: Keys) -> None:
            await client.incr(f"{runs}:{to_version}")
            await asyncio.sleep(0.2)  # long enough for every other node to find the lock

        return Migration(to_version, f"step {to_version}", run)

    migrations = [step(1), step(2), step(3)]
    clients = [connect(valkey.url) for _ in range(6)]
    try:
        await clients[0].set(keys.schema_version(), 1)  # steps 2 and 3 are missing
        founds = await asyncio.gather(
            *(
                ensure_schema(
                    c,
                    keys,
                    ScriptRunner(c, metrics=Metrics()),
                    lock_s=10,
                    migrations=migrations,
                    version=3,
                )
                for c in clients
            )
        )
        store = clients[0]
        assert await store.get(keys.schema_version()) == b"3"
        assert await store.get(f"{runs}:1") is None  # version 1 was there already
        assert await store.get(f"{runs}:2") == b"1"
        assert await store.get(f"{runs}:3") == b"1"
        assert await store.exists(keys.schema_lock()) == 0
        # One node migrated from 1; the others found 1 (waiting) then returned at 3.
        assert founds.count(1) >= 1
        assert set(founds) <= {1, 3}
    finally:
        for c in clients:
            await c.aclose()


async def test_a_node_that_died_holding_the_lock_is_taken_over_once_it_lapses(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    store = connect(valkey.url)
    try:
        # A node died mid-migration: the version is still 0, its lock lapses in 0.5 s.
        await store.set(keys.schema_lock(), "dead-node", px=500)
        scripts = ScriptRunner(store, metrics=Metrics())
        assert await ensure_schema(store, keys, scripts, lock_s=2) == 0
        assert await store.get(keys.schema_version()) == str(SCHEMA_VERSION).encode()
        assert await store.exists(keys.schema_lock()) == 0
    finally:
        await store.aclose()


async def test_a_migration_that_outlives_its_lock_is_not_stamped(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    store = connect(valkey.url)

    async def slow(client: store_client.StoreClient, keys: Keys) -> None:
        await asyncio.sleep(0.6)

    try:
        scripts = ScriptRunner(store, metrics=Metrics())
        with pytest.raises(SchemaMigrationError, match="lost the migration lock"):
            await ensure_schema(
                store, keys, scripts, lock_s=0.2, migrations=[Migration(1, "slow", slow)]
            )
        assert await store.get(keys.schema_version()) is None
    finally:
        await store.aclose()


@pytest.mark.parametrize("stored", [None, SCHEMA_VERSION + 1])
async def test_a_node_started_before_its_store_answered_checks_the_schema_when_ready(
    aiohttp_server: Any,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    stored: int | None,
) -> None:
    if is_cluster_url(valkey.url):
        pytest.skip("the proxy stands in front of one store server")
    keys = Keys(key_prefix)
    store = connect(valkey.url)
    proxy = await TcpProxy(valkey.url).start()
    await proxy.cut()  # the store does not answer while the node starts
    try:
        if stored is not None:
            await store.set(keys.schema_version(), stored)
        settings = make_settings(proxy.url, tmp_path, key_prefix)
        server = await aiohttp_server(create_app(settings))
        async with aiohttp.ClientSession() as http:

            async def readyz() -> int:
                async with http.get(server.make_url("/readyz")) as response:
                    return response.status

            assert await readyz() == 503
            proxy.heal()
            deadline = time.monotonic() + 20
            want = 200 if stored is None else 503
            while (got := await readyz()) != want or (
                stored is None and await store.get(keys.schema_version()) is None
            ):
                assert time.monotonic() < deadline, got
                await asyncio.sleep(0.1)
            if stored is None:  # checked, and stamped, once the store answered
                assert await store.get(keys.schema_version()) == str(SCHEMA_VERSION).encode()
            else:  # a newer schema: never ready, and the store left as it was
                await asyncio.sleep(0.5)
                assert await readyz() == 503
                assert await store.get(keys.schema_version()) == str(stored).encode()
    finally:
        proxy.heal()
        await proxy.stop()
        await store.aclose()
