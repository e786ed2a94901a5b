"""Crash safety and disk bounds of recordings, with real node processes and real peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest

from clients.anchor.testsrc import ToneAudioTrack
from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from media.playlist import PLAYLIST_NAME, parse
from tests.conftest import ClientFactory, make_settings
from tests.integration.deployment import (
    SECRET,
    api,
    bearer,
    eventually,
    start_node,
    token,
    write_config,
)
from tests.integration.encoded_source import EncodedVideoTrack
from tests.integration.media_peers import accept, publisher_offer
from tests.integration.nodes import Node

pytestmark = pytest.mark.timeout(120)
SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def recordings(data_dir: Path) -> list[Path]:
    root = data_dir / "recordings"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def listed_segments(directory: Path) -> int:
    playlist = directory / PLAYLIST_NAME
    return len(parse(playlist.read_text())) if playlist.exists() else 0


async def publish(http: aiohttp.ClientSession, node: Node, room: str) -> Any:
    pc = await publisher_offer([EncodedVideoTrack("video/h264"), ToneAudioTrack()], "video/h264")
    assert pc.localDescription is not None
    anchor = bearer("anchor", "alice")
    async with http.post(
        f"{node.url}/whip/{room}", data=pc.localDescription.sdp, headers={**SDP, **anchor}
    ) as response:
        assert response.status == 201, await response.text()
        await accept(pc, await response.text())
    return pc


def video_seconds(directory: Path) -> float:
    """The video duration PyAV reads from the playlist's segments (init + segments joined)."""
    segments = parse((directory / PLAYLIST_NAME).read_text())
    whole = directory.parent / f"{directory.name}.mp4"
    whole.write_bytes(
        (directory / "init.mp4").read_bytes()
        + b"".join((directory / s.name).read_bytes() for s in segments)
    )
    with av.open(str(whole)) as container:
        times = [float(p.pts * p.time_base) for p in container.demux(video=0) if p.size]
    whole.unlink()
    return max(times) - min(times)


async def test_a_sigkilled_node_leaves_a_playable_recording_that_the_next_start_finalises(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str
) -> None:
    config = write_config(tmp_path / "node.toml", valkey.url, key_prefix)
    data_dir = tmp_path / "node"
    node = start_node(nodes, data_dir, config)
    async with aiohttp.ClientSession() as http:
        status, room = await api(
            http, node, "POST", "/api/rooms", token("anchor", "alice"), {"title": "t"}
        )
        assert status == 201
        pc = await publish(http, node, room["id"])
        started = time.monotonic()
        try:
            await eventually(lambda: _segments_at_least(data_dir, 3), "three finished segments", 40)
            await asyncio.sleep(1.0)  # mid-segment
            node.process.kill()  # SIGKILL: no shutdown, no finalising
            killed = time.monotonic()
            node.process.wait()
        finally:
            await pc.close()

        (directory,) = recordings(data_dir)
        text = (directory / PLAYLIST_NAME).read_text()
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text  # cut short as it was
        assert "#EXT-X-ENDLIST" not in text
        listed = parse(text)
        assert all((directory / s.name).is_file() for s in listed)
        # Playable as it is, up to the last finished segment: at most one segment lost.
        recorded = video_seconds(directory)
        assert recorded >= (killed - started) - 2.0 - 3.0  # a segment, and connection set-up
        assert abs(recorded - sum(s.duration_s for s in listed)) <= 1.0

        again = start_node(nodes, data_dir, config)
        text = (directory / PLAYLIST_NAME).read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
        assert text.rstrip().endswith("#EXT-X-ENDLIST")
        assert not list(directory.glob("*.part"))
        with av.open(str(directory / PLAYLIST_NAME)) as hls:
            assert abs(float(hls.duration or 0) / 1e6 - recorded) <= 1.0

        async def ready() -> bool:
            _, answer = await api(http, again, "GET", f"/api/rooms/{room['id']}/replays")
            replays = answer
            return bool(replays) and replays[0]["status"] == "ready"

        await eventually(ready, "the replay to be finalised in the index")
        _, answer = await api(http, again, "GET", f"/api/rooms/{room['id']}/replays")
        replay = answer[0]
        assert replay["stopped"] == "node_stopped"
        assert abs(replay["duration_s"] - recorded) <= 1.0
        async with http.get(again.url + replay["playback_url"]) as response:
            assert response.status == 200


async def _segments_at_least(data_dir: Path, count: int) -> bool:
    found = recordings(data_dir)
    return bool(found) and listed_segments(found[0]) >= count


async def test_over_the_disk_cap_recording_stops_and_the_live_stream_goes_on(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str
) -> None:
    config = write_config(
        tmp_path / "node.toml", valkey.url, key_prefix, recording={"max_disk_mb": 1}
    )
    data_dir = tmp_path / "node"
    node = start_node(nodes, data_dir, config)
    async with aiohttp.ClientSession() as http:
        _, room = await api(
            http, node, "POST", "/api/rooms", token("anchor", "alice"), {"title": "t"}
        )
        pc = await publish(http, node, room["id"])
        try:

            async def stopped() -> bool:
                async with http.get(f"{node.url}/metrics") as response:
                    text = await response.text()
                return 'livecommerce_recordings_stopped_total{reason="disk_cap"} 1.0' in text

            await eventually(stopped, "the recording to stop at the cap", 60)
            assert any("stopped early (disk_cap)" in line for line in node.stderr_lines)
            # The stream goes on: the room is live and a viewer still gets video.
            from tests.integration.media_peers import Viewer

            viewer = Viewer()
            async with http.post(
                f"{node.url}/whep/{room['id']}", data=await viewer.offer(), headers=SDP
            ) as response:
                assert response.status == 201, await response.text()
                await accept(viewer.pc, await response.text())
            await viewer.wait_frames("video", 30, timeout_s=20)
            await viewer.close()
            (directory,) = recordings(data_dir)
            size = sum(f.stat().st_size for f in directory.iterdir())
            assert size <= 1024 * 1024 + 4096  # the cap (and the small state file)
        finally:
            await pc.close()


async def test_a_recording_deleted_while_its_node_was_down_is_removed_at_its_next_start(
    nodes: list[Node],
    tmp_path: Path,
    valkey: EmbeddedValkey,
    key_prefix: str,
    aiohttp_client: ClientFactory,
) -> None:
    """The recording node never saw the deletion (killed): the other node answers once it
    has waited, and the files go when the recording node starts again."""
    config = write_config(tmp_path / "node.toml", valkey.url, key_prefix)
    data_dir = tmp_path / "node"
    node = start_node(nodes, data_dir, config)
    settings = make_settings(valkey.url, tmp_path / "b", key_prefix, auth={"secret": SECRET})
    other = await aiohttp_client(create_app(settings))
    async with aiohttp.ClientSession() as http:
        _, room = await api(
            http, node, "POST", "/api/rooms", token("anchor", "alice"), {"title": "t"}
        )
        pc = await publish(http, node, room["id"])
        try:
            await eventually(lambda: _segments_at_least(data_dir, 1), "a finished segment", 40)
            node.process.kill()
            node.process.wait()
        finally:
            await pc.close()
        (directory,) = recordings(data_dir)
        deleted = await other.delete(
            f"/api/replays/{directory.name}", headers=bearer("anchor", "alice")
        )
        assert deleted.status == 200, await deleted.text()
        assert directory.is_dir()  # nobody there to remove it

        again = start_node(nodes, data_dir, config)

        async def removed() -> bool:
            return not directory.exists()

        await eventually(removed, "the files of the deleted replay to go", 30)
        _, answer = await api(http, again, "GET", f"/api/rooms/{room['id']}/replays")
        assert answer == []
