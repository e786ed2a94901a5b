"""The embedded store lets in no one but its node: a password always, a private socket
even when the data dir's path is too long for one, and files only their owner can read."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import redis

from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.nodes import Node, clean_env, run_cli

# Longer than any unix socket address (108 bytes on Linux) once valkey.sock is added.
LONG_NAME = "a-data-dir-whose-path-is-far-too-long-for-a-unix-socket-address-" * 2


@pytest.fixture
def stores() -> Iterator[list[EmbeddedValkey]]:
    started: list[EmbeddedValkey] = []
    yield started
    for store in started:
        store.stop()


def start(stores: list[EmbeddedValkey], data_dir: Path) -> EmbeddedValkey:
    store = EmbeddedValkey(data_dir)
    stores.append(store)
    store.start()
    return store


def raw_ping(url: str) -> bytes:
    """PING on a fresh connection to wherever ``url`` points, without authenticating."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(unquote(parts.path))
    else:
        conn = socket.create_connection((parts.hostname or "", parts.port or 0))
    with conn:
        conn.settimeout(5)
        conn.sendall(b"PING\r\n")
        return conn.recv(200)


def open_to_others(root: Path) -> list[str]:
    """Everything under ``root`` (and root) that group or others may read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not stat.S_ISSOCK(path.lstat().st_mode) and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return found


def test_a_client_without_the_password_is_refused(
    stores: list[EmbeddedValkey], tmp_path: Path
) -> None:
    store = start(stores, tmp_path / "data")
    assert raw_ping(store.url).startswith(b"-NOAUTH")
    assert redis.Redis.from_url(store.url).ping()


def test_a_data_dir_too_long_for_a_socket_keeps_the_store_private_and_working(
    stores: list[EmbeddedValkey], tmp_path: Path
) -> None:
    data_dir = tmp_path / LONG_NAME
    assert len(str(data_dir / "valkey.sock")) > 108
    store = start(stores, data_dir)

    assert raw_ping(store.url).startswith(b"-NOAUTH")
    assert store.url.startswith("unix://"), "a unix socket in a private dir, not TCP"
    assert store.socket_path is not None
    holder = store.socket_path.parent
    assert stat.S_IMODE(holder.stat().st_mode) == 0o700
    assert holder.stat().st_uid == os.geteuid()
    client = redis.Redis.from_url(store.url)
    client.set("lc:private", "yes")
    assert client.get("lc:private") == b"yes"


def test_the_stores_files_are_readable_by_their_owner_only(
    stores: list[EmbeddedValkey], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    store = start(stores, data_dir)
    redis.Redis.from_url(store.url).set("lc:order", "user-1 bought 2 scarves")
    assert list((data_dir / "appendonlydir").iterdir())
    assert open_to_others(data_dir) == []


def test_files_an_older_version_left_open_are_made_private_at_start(
    stores: list[EmbeddedValkey], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = start(stores, data_dir)
    redis.Redis.from_url(first.url).set("lc:order", "kept")
    first.stop()
    for path in [*data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    second = start(stores, data_dir)
    assert redis.Redis.from_url(second.url).get("lc:order") == b"kept"
    assert [entry for entry in open_to_others(data_dir) if entry.split()[0] != "data"] == []


def test_the_password_is_not_on_the_stores_command_line(
    stores: list[EmbeddedValkey], tmp_path: Path
) -> None:
    store = start(stores, tmp_path / "data")
    assert store.pid is not None
    assert store.password
    assert store.password.encode() not in Path(f"/proc/{store.pid}/cmdline").read_bytes()


@pytest.mark.slow
def test_a_node_on_a_long_data_dir_serves_with_a_private_store(tmp_path: Path) -> None:
    data_dir = tmp_path / LONG_NAME
    node = Node(data_dir, env=clean_env())
    try:
        node.wait_ready()
        password = (data_dir / "valkey.password").read_text().strip()
        assert password not in node.store_line
        assert "***" in node.store_line
        assert not [line for line in node.stderr_lines if password in line]

        created = run_cli("token", "--role", "anchor", "--user", "a", "--data-dir", str(data_dir))
        assert created.returncode == 0, created.stderr
        anchor = created.stdout.strip()
        assert node.request("GET", "/readyz")[0] == 200
        assert node.request("POST", "/api/rooms", {"title": "Private"}, anchor)[0] == 201

        store_url = EmbeddedValkey(data_dir).url
        assert raw_ping(store_url).startswith(b"-NOAUTH")
        assert open_to_others(data_dir) == []
        assert node.stop() == 0
    finally:
        node.close()


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short XDG_RUNTIME_DIR of this test's own."""
    base = Path(tempfile.mkdtemp(prefix="lc-xdg-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_a_long_data_dir_socket_goes_to_the_users_runtime_dir(
    stores: list[EmbeddedValkey], tmp_path: Path, runtime_dir: Path
) -> None:
    store = start(stores, tmp_path / LONG_NAME)
    assert store.socket_path is not None
    assert store.socket_path.parent == runtime_dir / "livecommerce"
    assert stat.S_IMODE(store.socket_path.parent.stat().st_mode) == 0o700
    assert raw_ping(store.url).startswith(b"-NOAUTH")


@pytest.mark.parametrize("trap", ["symlink", "someone else's"])
def test_a_runtime_dir_planted_by_someone_else_is_not_used(
    stores: list[EmbeddedValkey], tmp_path: Path, runtime_dir: Path, trap: str
) -> None:
    planted = runtime_dir / "livecommerce"
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o777)
    if trap == "symlink":
        planted.symlink_to(elsewhere)
    else:
        if os.geteuid() != 0:
            pytest.skip("making a directory someone else owns needs root")
        planted.mkdir(mode=0o777)
        os.chown(planted, 65534, 65534)
    store = start(stores, tmp_path / LONG_NAME)

    assert store.socket_path is None or store.socket_path.parent != planted
    assert list(elsewhere.iterdir()) == []
    assert raw_ping(store.url).startswith(b"-NOAUTH")
    assert redis.Redis.from_url(store.url).ping()


@pytest.mark.slow
def test_the_token_command_creates_a_private_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    result = run_cli("token", "--role", "viewer", "--user", "v", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert open_to_others(data_dir) == []
    assert (data_dir / "auth_secret").exists()
