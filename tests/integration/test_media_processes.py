"""A node and the anchor client as real processes: go live, play, and stop without hanging."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from media.samples import sample_path
from tests.integration.media_peers import Viewer, accept
from tests.integration.nodes import Node, clean_env
from tests.integration.test_serve_process import token_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    started = Node(tmp_path, env=clean_env(LIVECOMMERCE_MEDIA_PUBLISHER_IDLE_TIMEOUT_S="3"))
    yield started.wait_ready()
    started.close()


def wait_status(node: Node, room: str, status: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while node.request("GET", f"/api/rooms/{room}")[1]["status"] != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"room {room} never became {status}")
        time.sleep(0.1)


async def play(url: str) -> Viewer:
    viewer = Viewer()
    offer = await viewer.offer()
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=offer.encode(), headers={"Content-Type": "application/sdp"}) as reply,
    ):
        assert reply.status == 201, await reply.text()
        await accept(viewer.pc, await reply.text())
    return viewer


def test_an_anchor_process_goes_live_and_the_node_stops_cleanly_with_sessions_up(
    node: Node, tmp_path: Path
) -> None:
    anchor_token = token_for(tmp_path, "anchor", "alice")
    status, room = node.request("POST", "/api/rooms", {"title": "Live"}, token=anchor_token)
    assert status == 201
    anchor = subprocess.Popen(
        [
            sys.executable, "-m", "clients.anchor", "--server", node.url, "--token", anchor_token,
            "--room", room["id"], "--source", str(sample_path("vp8")),
        ],
        cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_status(node, room["id"], "live")

        async def watch() -> tuple[int, set[tuple[int, int]]]:
            viewer = await play(f"{node.url}/whep/{room['id']}")
            await viewer.wait_frames("video", 10, timeout_s=15)
            result = viewer.frames["video"], set(viewer.sizes)
            await viewer.close()
            return result

        frames, sizes = asyncio.run(watch())
        assert frames >= 10
        assert sizes == {(640, 360)}

        began = time.monotonic()
        node.signal(signal.SIGTERM)
        assert node.process.wait(15) == 0
        assert time.monotonic() - began < 10
        assert not [line for line in node.stderr_lines if "Traceback" in line], node.stderr_lines
        assert not [line for line in node.stderr_lines if "aioice" in line]  # quiet at INFO
    finally:
        anchor.send_signal(signal.SIGTERM)
        try:
            anchor.wait(15)
        finally:
            if anchor.poll() is None:
                anchor.kill()
            _, err = anchor.communicate()
    assert "live in room" in err
    assert "analytics dashboard: http://" in err
    assert f"analytics dashboard: {node.url}/studio/rooms/{room['id']}" in err
