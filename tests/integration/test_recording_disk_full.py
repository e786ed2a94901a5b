"""A full disk (a tiny tmpfs) stops the recording cleanly; the live stream goes on."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import METRICS
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.media_peers import Viewer, accept
from tests.integration.test_recording_api import go_live, until
from tests.integration.test_rooms_api import bearer, create_room

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk_stops_the_recording_and_viewers_keep_watching(
    aiohttp_client: ClientFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    tiny_disk: Path,
) -> None:
    settings = make_settings(
        valkey.url,
        tmp_path,
        key_prefix,
        recording={"dir": str(tiny_disk), "max_disk_mb": 0},
        media={"publisher_idle_timeout_s": 3.0},
    )
    app = create_app(settings)
    node = await aiohttp_client(app)
    room = (await create_room(node, token))["id"]
    pc, location = await go_live(node, token, room, "video/h264")
    viewer = Viewer()
    try:
        stopped = app[METRICS].recordings_stopped

        async def disk_full() -> bool:
            return "disk_full" in stopped._children

        await until(disk_full, 60.0, "the recording to stop on a full disk")
        response = await node.post(
            f"/whep/{room}",
            data=(await viewer.offer()).encode(),
            headers={"Content-Type": "application/sdp"},
        )
        assert response.status == 201
        await accept(viewer.pc, await response.text())
        await viewer.wait_frames("video", 30, timeout_s=20)

        async def ready() -> dict[str, object] | None:
            replays = await (await node.get(f"/api/rooms/{room}/replays")).json()
            return replays[0] if replays and replays[0]["status"] == "ready" else None

        replay = await until(ready, 20.0, "the stopped replay in the index")
        assert replay["stopped"] == "disk_full"
        playlist = await (await node.get(str(replay["playback_url"]))).text()
        assert "#EXT-X-ENDLIST" in playlist  # what was written stays playable
        await asyncio.sleep(0)
    finally:
        await viewer.close()
        await node.delete(location, headers=bearer(token("anchor", "alice")))
        await pc.close()
