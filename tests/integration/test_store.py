"""The store layer against real valkey-server processes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.metrics import Metrics
from livecommerce.store import client as store_client
from livecommerce.store.embedded import EmbeddedStoreError, EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner, load_script
from tests.conftest import ClientFactory, TokenFactory, make_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_for_status(client: TestClient, path: str, status: int, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await client.get(path)
        if response.status == status:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{path} stayed {response.status}"
        await asyncio.sleep(0.1)


async def test_scripts_reload_after_the_store_forgets_them(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    client = store_client.connect(valkey.url, 2.0, 5.0, 0)
    try:
        runner = ScriptRunner(client, metrics=Metrics())
        keys = Keys(key_prefix)
        await client.script_flush()
        created = await runner.run("rooms_create", [keys.room("r1")], ["r1", "t", "", "alice", 1])
        assert created == 1
        await client.script_flush()
        assert await runner.run("rooms_end", [keys.room("r1")], [2]) == 1
        assert await runner.run("rooms_end", [keys.room("r1")], [3]) == 0
        assert await client.hget(keys.room("r1"), "ended_at") == b"2"
    finally:
        await client.aclose()


async def test_a_script_with_a_library_reloads_and_runs_it(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    client = store_client.connect(valkey.url, 2.0, 5.0, 0)
    try:
        runner = ScriptRunner(client, metrics=Metrics())
        keys = Keys(key_prefix)
        await client.script_flush()
        likes = [keys.room_counters("r1"), keys.room_engagement("r1"), keys.user_likes("r1", "u")]
        # burst, refill per s, discovery cap, slot ms, slots; then the user's likes, of a viewer
        added = await runner.run("likes_add", likes, [10, 1, 50, 1000, 5, 3, 3])
        assert added == [3, 3, 3]
        counted = await client.hgetall(keys.room_engagement("r1"))
        assert [field.partition(b":")[0] for field in counted] == [b"likes"]
        assert list(counted.values()) == [b"3"]
    finally:
        await client.aclose()


def test_script_files_are_found_by_name_and_hashed() -> None:
    script = load_script("rooms_end")
    assert "KEYS[1]" in script.source
    assert len(script.sha) == 40
    with pytest.raises(FileNotFoundError):
        load_script("no_such_script")


def test_embedded_store_keeps_data_across_restarts(tmp_path: Path) -> None:
    first = EmbeddedValkey(tmp_path)
    first.start()
    pid = first.pid
    assert pid is not None
    assert (tmp_path / "valkey.pid").read_text().strip() == str(pid)
    import redis

    redis.Redis.from_url(first.url).set("lc:durable", "yes")
    first.stop()
    assert not alive(pid)
    assert not (tmp_path / "valkey.pid").exists()

    second = EmbeddedValkey(tmp_path)
    second.start()
    try:
        assert redis.Redis.from_url(second.url).get("lc:durable") == b"yes"
    finally:
        second.stop()


def test_embedded_store_stops_an_orphan_left_on_its_data_dir(tmp_path: Path) -> None:
    orphan = EmbeddedValkey(tmp_path)
    orphan.start()
    # Forget the child without stopping it, as a node SIGKILLed on a system
    # without parent-death signals would; its death also frees the data-dir lock.
    orphan_process, orphan._process = orphan._process, None
    orphan._lock.release()
    assert orphan_process is not None
    successor = EmbeddedValkey(tmp_path)
    successor.start()
    try:
        assert orphan_process.wait(timeout=5) is not None
        assert successor.pid != orphan_process.pid
        assert successor.running
    finally:
        successor.stop()


def test_a_pid_file_naming_another_program_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "valkey.pid").write_text(f"{os.getpid()}\n")
    server = EmbeddedValkey(tmp_path)
    server.start()
    try:
        assert alive(os.getpid())
    finally:
        server.stop()


def test_a_failing_start_reports_valkeys_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "appendonlydir"
    blocker.write_text("not a directory")
    server = EmbeddedValkey(tmp_path, start_timeout_s=5)
    with pytest.raises(EmbeddedStoreError, match="valkey-server"):
        server.start()
    assert not server.running


async def test_readiness_follows_the_store_down_and_back_up(
    aiohttp_client: ClientFactory, tmp_path: Path, key_prefix: str, token: TokenFactory
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    try:
        settings = make_settings(store.url, tmp_path, key_prefix)
        client = await aiohttp_client(create_app(settings))
        created = await client.post(
            "/api/rooms", json={"title": "before"}, headers=bearer(token("anchor", "alice"))
        )
        room = await created.json()
        await wait_for_status(client, "/readyz", 200, 5)

        store.stop()
        not_ready = await client.get("/readyz")
        assert not_ready.status == 503
        assert (await not_ready.json())["error"]["code"] == "store_unavailable"
        during = await client.get(f"/api/rooms/{room['id']}")
        assert during.status == 503
        assert (await during.json())["error"]["code"] == "store_unavailable"
        assert (await client.get("/healthz")).status == 200

        store = EmbeddedValkey(tmp_path / "store")
        store.start()
        await wait_for_status(client, "/readyz", 200, 10)
        after = await client.get(f"/api/rooms/{room['id']}")
        assert after.status == 200
        assert (await after.json())["title"] == "before"
    finally:
        store.stop()
