"""``livecommerce serve`` and ``livecommerce token`` as real processes."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import jwt
import pytest

from livecommerce.store.client import mask_url
from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.nodes import Node, clean_env, pid_alive, run_cli, wait_gone

pytestmark = pytest.mark.slow


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def start(nodes: list[Node], data_dir: Path, *args: str, **env: str) -> Node:
    node = Node(data_dir, *args, env=clean_env(**env))
    nodes.append(node)
    return node.wait_ready()


def token_for(data_dir: Path, role: str, user: str) -> str:
    result = run_cli("token", "--role", role, "--user", user, "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_drains_the_node_and_leaves_no_store_behind(
    nodes: list[Node], tmp_path: Path, signum: int
) -> None:
    node = start(nodes, tmp_path)
    assert node.store_line.startswith("store: embedded valkey-server")
    assert str(tmp_path) in node.store_line
    store_pid = node.embedded_pid()
    assert pid_alive(store_pid)
    assert node.request("GET", "/readyz")[0] == 200

    began = time.monotonic()
    node.signal(signum)
    assert node.process.wait(10) == 0
    assert time.monotonic() - began < 8
    assert wait_gone(store_pid, 2), "valkey-server outlived the node"
    assert not (tmp_path / "valkey.pid").exists()


def test_open_channel_sockets_are_closed_at_once_instead_of_holding_up_the_shutdown(
    nodes: list[Node], tmp_path: Path
) -> None:
    """aiohttp waits up to server.shutdown_timeout_s for open handlers; a WebSocket never ends."""
    node = start(nodes, tmp_path, LIVECOMMERCE_SERVER_SHUTDOWN_TIMEOUT_S="60")
    anchor = token_for(tmp_path, "anchor", "alice")
    room = node.request("POST", "/api/rooms", {"title": "Open sockets"}, token=anchor)[1]["id"]

    async def connect_then_stop() -> tuple[int | None, int]:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{node.url}/ws/rooms/{room}", params={"format": "json"}) as ws,
        ):
            assert (await ws.receive_json())["type"] == "welcome"
            node.signal(signal.SIGTERM)
            while not ws.closed:
                await ws.receive()
            return ws.close_code, await asyncio.to_thread(node.process.wait, 30)

    assert asyncio.run(connect_then_stop()) == (4503, 0)  # "reconnect now", well before 60 s


def test_a_sigkilled_node_does_not_leave_its_store_running(
    nodes: list[Node], tmp_path: Path
) -> None:
    node = start(nodes, tmp_path)
    store_pid = node.embedded_pid()
    node.signal(signal.SIGKILL)
    node.process.wait(5)
    assert wait_gone(store_pid, 5), "valkey-server outlived a SIGKILLed node"

    # The next start on the same data dir works and keeps the data.
    again = start(nodes, tmp_path)
    assert again.request("GET", "/readyz")[0] == 200
    assert again.stop() == 0


def test_rooms_and_tokens_survive_a_restart(nodes: list[Node], tmp_path: Path) -> None:
    first = start(nodes, tmp_path)
    assert any("generated a new token signing secret" in line for line in first.stderr_lines)
    anchor = token_for(tmp_path, "anchor", "alice")
    status, room = first.request("POST", "/api/rooms", {"title": "Durable"}, anchor)
    assert status == 201
    assert first.stop() == 0

    second = start(nodes, tmp_path)
    assert not any("generated" in line for line in second.stderr_lines)
    status, fetched = second.request("GET", f"/api/rooms/{room['id']}")
    assert status == 200
    assert fetched == room
    status, ended = second.request("POST", f"/api/rooms/{room['id']}/end", None, anchor)
    assert status == 200
    assert ended["status"] == "ended"
    assert second.stop() == 0


def test_an_external_store_url_is_used_and_no_store_is_started(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey
) -> None:
    node = start(nodes, tmp_path, "--redis-url", valkey.url)
    assert node.store_line == f"store: {mask_url(valkey.url)}"
    assert not (tmp_path / "valkey.pid").exists()
    assert node.request("GET", "/readyz")[0] == 200
    assert node.stop() == 0
    assert valkey.running


def test_a_busy_port_fails_start_up_and_stops_the_store(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--data-dir", str(tmp_path), timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (tmp_path / "valkey.pid").exists()
    logged = (tmp_path / "valkey.log").read_text()
    assert "ready to exit" in logged


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (["--port", "70000"], {}, "server.port"),
        ([], {"LIVECOMMERCE_SERVER_PORT": "eighty"}, "server.port"),
        ([], {"LIVECOMMERCE_STORE_URLL": "redis://x"}, "store.urll"),
        (["--redis-url", "http://localhost"], {}, "store.url"),
        ([], {"LIVECOMMERCE_AUTH_SECRET": "short"}, "auth.secret"),
        (["--config", "/nonexistent/livecommerce.toml"], {}, "--config"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    tmp_path: Path, args: list[str], env: dict[str, str], names: str
) -> None:
    result = run_cli("serve", "--data-dir", str(tmp_path), *args, env=clean_env(**env))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert not (tmp_path / "valkey.pid").exists()


def test_a_config_file_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[server]\nport = 8080\nhots = "0.0.0.0"\n')
    result = run_cli("serve", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"livecommerce: config error: server.hots: unknown setting (from {config})"
    ]


def test_token_command_signs_with_the_configured_secret(tmp_path: Path) -> None:
    secret = "s" * 40
    result = run_cli(
        "token", "--role", "anchor", "--user", "alice", "--room", "r1", "--ttl", "120",
        env=clean_env(LIVECOMMERCE_AUTH_SECRET=secret),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["role"] == "anchor"
    assert claims["room"] == "r1"
    assert claims["exp"] - claims["iat"] == 120


def test_token_command_generates_the_secret_once_and_says_so(tmp_path: Path) -> None:
    first = run_cli("token", "--role", "viewer", "--user", "v", "--data-dir", str(tmp_path))
    assert "generated a new token signing secret" in first.stderr
    second = run_cli("token", "--role", "viewer", "--user", "v", "--data-dir", str(tmp_path))
    assert second.stderr == ""
    secret = (tmp_path / "auth_secret").read_text().strip()
    assert (tmp_path / "auth_secret").stat().st_mode & 0o777 == 0o600
    for output in (first.stdout, second.stdout):
        assert jwt.decode(output.strip(), secret, algorithms=["HS256"])["role"] == "viewer"


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "superuser", "--user", "x"],
        ["--role", "viewer"],
        ["--role", "viewer", "--user", "has space"],
        ["--role", "viewer", "--user", "x", "--ttl", "0"],
    ],
)
def test_token_command_rejects_bad_arguments(tmp_path: Path, args: list[str]) -> None:
    result = run_cli("token", "--data-dir", str(tmp_path), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip()
