"""Tokens stay off command lines, which every user of the machine can read in /proc:
the demo hands its 30-day anchor token to ``livecommerce-anchor`` through the
environment, and the anchor client takes its token from a file or the environment."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from clients.anchor.cli import TOKEN_ENV, parse_args
from tests.integration.nodes import Node, clean_env

JWT = re.compile(rb"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def anchor_child(node: Node, timeout_s: float = 30.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pid in children(node.process.pid):
            try:
                if b"clients.anchor" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                continue
        time.sleep(0.2)
    raise AssertionError(f"no livecommerce-anchor child; stderr: {node.stderr_lines[-10:]}")


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.decode().partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def live_rooms(node: Node) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{node.url}/api/rooms?status=live", timeout=5) as reply:
        return list(json.loads(reply.read())["rooms"])


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_demos_anchor_token_is_not_on_the_publishers_command_line(tmp_path: Path) -> None:
    node = Node(tmp_path / "demo", "--demo", env=clean_env())
    try:
        node.wait_ready()
        pid = anchor_child(node)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"--token" not in cmdline
        assert not JWT.search(cmdline), cmdline
        token = environment(pid).get(TOKEN_ENV, "")
        assert JWT.fullmatch(token.encode()), "the demo hands over its token in the environment"
        assert token.encode() not in cmdline

        deadline = time.monotonic() + 60
        while not live_rooms(node):  # the publisher got in with that token
            assert time.monotonic() < deadline, node.stderr_lines[-10:]
            time.sleep(0.5)
        assert node.stop(20) == 0
    finally:
        node.close()


BASE = ["--server", "http://127.0.0.1:1", "--room", "r1"]


def test_the_anchor_client_takes_its_token_from_the_environment() -> None:
    assert parse_args(BASE, environ={TOKEN_ENV: "from-env\n"}).token == "from-env"


def test_the_anchor_client_takes_its_token_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "anchor.token"
    path.write_text("from-file\n")
    options = parse_args([*BASE, "--token-file", str(path)], environ={TOKEN_ENV: "from-env"})
    assert options.token == "from-file"


def test_the_anchor_client_server_may_come_from_the_environment() -> None:
    environ = {TOKEN_ENV: "t", "LIVECOMMERCE_ANCHOR_SERVER": "http://10.0.0.1:8080"}
    assert parse_args(["--room", "r1"], environ=environ).server == "http://10.0.0.1:8080"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (BASE, TOKEN_ENV),
        ([*BASE, "--token-file", "/nonexistent/anchor.token"], "cannot read"),
        (["--room", "r1", "--token-file", "/dev/null"], "LIVECOMMERCE_ANCHOR_SERVER"),
        ([*BASE, "--token-file", "/dev/null"], "is empty"),
        ([*BASE, "--token", "t", "--token-file", "/dev/null"], "not allowed with"),
    ],
)
def test_the_anchor_client_explains_a_missing_token_or_server(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(args, environ={})
    assert exit_.value.code == 2
    assert said in capsys.readouterr().err
