"""``livecommerce serve --demo`` tells a newcomer how to take the room over as its anchor: a
studio URL and a ``livecommerce-anchor`` command that work, and the demo's clip steps aside
while a person is live, then comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import shlex
import stat
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.integration.nodes import Node, clean_env
from tests.integration.test_demo import demo_line, eventually, get, nodes  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
STUDIO = re.compile(
    r"^demo: go live from the browser: (http://\S+/studio\?room=(\S+)#token=(\S+))$"
)
COMMAND = re.compile(r"^demo: or from a terminal: (livecommerce-anchor .+)$")
STEADY_S = 12.0


def token_file(path: Path) -> tuple[int, str]:
    return stat.S_IMODE(path.stat().st_mode), path.read_text().strip()


def next_line(node: Node, timeout_s: float = 10.0) -> str:
    return node.lines.get(timeout=timeout_s)


async def room_status(session: aiohttp.ClientSession, node: Node, room: str) -> str:
    return str((await get(session, f"{node.url}/api/rooms/{room}"))["status"])


@pytest.mark.timeout(240)
async def test_the_demo_prints_a_studio_url_and_an_anchor_command_that_take_the_room_over(
    tmp_path: Path,
    nodes: list[Node],  # noqa: F811
) -> None:
    node = Node(tmp_path / "demo", "--demo", env=clean_env())
    nodes.append(node)
    node.wait_ready()
    _, room = demo_line(node).groups()
    studio = STUDIO.match(next_line(node))
    command = COMMAND.match(next_line(node))
    assert studio is not None
    assert command is not None
    assert studio.group(2) == room
    words = shlex.split(command.group(1))
    mode, saved = token_file(Path(words[words.index("--token-file") + 1]))
    assert mode == 0o600
    assert saved == studio.group(3)  # one token, made for this room

    async with aiohttp.ClientSession() as session:
        async with session.get(studio.group(1)) as page:
            assert page.status == 200
            assert "studio.js" in await page.text()

        async def live() -> bool:
            return await room_status(session, node, room) == "live"

        await eventually(live, "the demo clip")
        # The printed command, as a newcomer would run it (line mode: this is not a terminal).
        anchor = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clients.anchor", *words[1:],
            "--source", "testsrc", "--size", "160x120", "--status-every", "0", "--plain",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, **clean_env()},
        )  # fmt: skip
        try:
            assert anchor.stdout is not None
            assert anchor.stderr is not None
            line = await asyncio.wait_for(anchor.stdout.readline(), 30)
            while not line.startswith(b"[room] joined the channel"):
                line = await asyncio.wait_for(anchor.stdout.readline(), 30)
            said: list[bytes] = []
            deadline = time.monotonic() + 30
            while not any(b"live in room" in s for s in said) and time.monotonic() < deadline:
                said.append(await asyncio.wait_for(anchor.stderr.readline(), 30))
            assert any(b"live in room" in s for s in said), said
            # The demo's clip does not take the room back while the person is live.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STEADY_S):
                    while True:
                        said.append(await anchor.stderr.readline())
            assert not any(b"dropped" in s for s in said), said
            assert await live()
            assert anchor.stdin is not None
            anchor.stdin.write(b"quit\n")
            await anchor.stdin.drain()
            assert await asyncio.wait_for(anchor.wait(), 30) == 0
        finally:
            if anchor.returncode is None:
                anchor.kill()
                await anchor.wait()
        # The person left: the demo's clip comes back.
        await eventually(live, "the demo clip to come back", timeout_s=60)
    with contextlib.suppress(queue.Empty):
        while True:
            node.lines.get_nowait()
