"""One data dir, one node: a second ``serve`` on it refuses to start and leaves the first
node and its store untouched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from livecommerce.store.embedded import DataDirInUseError, EmbeddedValkey
from tests.integration.nodes import Node, clean_env, pid_alive, run_cli


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def test_a_second_store_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    first = EmbeddedValkey(tmp_path)
    first.start()
    try:
        second = EmbeddedValkey(tmp_path)
        with pytest.raises(DataDirInUseError, match="in use by another livecommerce process"):
            second.start()
        assert first.running
        client = redis.Redis.from_url(first.url)
        assert client.set("lc:still", "here")
        assert (tmp_path / "valkey.pid").read_text().strip() == str(first.pid)
    finally:
        first.stop()
    # Once the first lets go, the data dir is free again.
    third = EmbeddedValkey(tmp_path)
    third.start()
    try:
        assert redis.Redis.from_url(third.url).get("lc:still") == b"here"
    finally:
        third.stop()


@pytest.mark.slow
def test_a_second_node_on_the_same_data_dir_exits_and_the_first_keeps_serving(
    nodes: list[Node], tmp_path: Path
) -> None:
    first = Node(tmp_path, env=clean_env())
    nodes.append(first)
    first.wait_ready()
    store_pid = first.embedded_pid()
    anchor = run_cli("token", "--role", "anchor", "--user", "alice", "--data-dir", str(tmp_path))
    assert anchor.returncode == 0, anchor.stderr

    began = time.monotonic()
    second = run_cli("serve", "--port", "0", "--data-dir", str(tmp_path), timeout=30)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith(f"livecommerce: data dir {tmp_path.resolve()} is in use")
    assert f"pid {first.process.pid}" in lines[0]
    assert "livecommerce listening" not in second.stdout
    assert time.monotonic() - began < 15

    assert first.process.poll() is None
    assert pid_alive(store_pid)
    assert first.embedded_pid() == store_pid
    assert first.request("GET", "/readyz")[0] == 200
    token = anchor.stdout.strip()
    status, room = first.request("POST", "/api/rooms", {"title": "Still mine"}, token)
    assert status == 201, room
    assert first.request("GET", f"/api/rooms/{room['id']}")[0] == 200
    assert first.stop() == 0
