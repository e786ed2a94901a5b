"""``livecommerce-anchor`` on a real terminal (a pseudo-terminal): the full-screen console is the
default, publishes, and quits on ``q`` ending the stream; ``--plain`` keeps the line console."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import sys
import termios

import pytest

from tests.integration.cluster import Cluster

pytestmark = pytest.mark.timeout(120)
WAIT_S = 30.0


class Terminal:
    """A child process whose stdin, stdout and stderr are one pseudo-terminal of 120×40
    (Textual draws on stderr)."""

    def __init__(self, process: asyncio.subprocess.Process, master: int) -> None:
        self.process = process
        self.master = master
        self.screen = b""
        self._changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(master, self._read)

    @classmethod
    async def start(cls, *argv: str) -> Terminal:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=slave, stdout=slave, stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
        )  # fmt: skip
        os.close(slave)
        return cls(process, master)

    def _read(self) -> None:
        try:
            self.screen += os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            asyncio.get_running_loop().remove_reader(self.master)
        self._changed.set()

    async def shows(self, *texts: bytes) -> None:
        try:
            async with asyncio.timeout(WAIT_S):
                while not all(text in self.screen for text in texts):
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            missing = [text for text in texts if text not in self.screen]
            raise AssertionError(f"no {missing} on the screen: {self.screen[-2000:]!r}") from None

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    async def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        os.close(self.master)


def anchor_argv(cluster: Cluster, room: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "clients.anchor", "--server", cluster.urls[0],
        "--token", cluster.token("anchor", "alice"), "--room", room,
        "--source", "testsrc", "--size", "160x120", *extra,
    ]  # fmt: skip


async def room_status(cluster: Cluster, room: str) -> str:
    status, body = await cluster.api("GET", f"/api/rooms/{room}")
    assert status == 200
    return str(body["status"])


async def test_a_terminal_gets_the_full_screen_console_and_q_ends_the_stream(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    terminal = await Terminal.start(*anchor_argv(cluster, room))
    try:
        await terminal.shows(b"\x1b[?1049h", b"Chat", b"Flash sale", b"LIVE")  # alternate screen
        assert await room_status(cluster, room) == "live"
        terminal.type(b"q")
        async with asyncio.timeout(WAIT_S):
            assert await terminal.process.wait() == 0
        assert await room_status(cluster, room) == "scheduled"
        assert b"Traceback" not in terminal.screen
    finally:
        await terminal.close()


async def test_plain_keeps_the_line_console_on_a_terminal(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    terminal = await Terminal.start(*anchor_argv(cluster, room, "--plain", "--status-every", "0"))
    try:
        await terminal.shows(b"type help for the commands", b"joined the channel")
        assert b"\x1b[?1049h" not in terminal.screen
        terminal.type(b"quit\n")
        async with asyncio.timeout(WAIT_S):
            assert await terminal.process.wait() == 0
    finally:
        await terminal.close()
