"""Live HLS and replay files on a deployment of two nodes: the node that records serves
the files, any other answers 307 to it; a recording deleted through any node stops on
the node that records it."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from clients.anchor.testsrc import ToneAudioTrack
from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import RECORDINGS
from tests.conftest import TokenFactory, make_settings
from tests.integration.cluster import Cluster, ServerFactory
from tests.integration.encoded_source import EncodedVideoTrack
from tests.integration.media_peers import Viewer, accept, publisher_offer
from tests.integration.test_recording_api import until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    """Two nodes on one store, each with its own data dir (so its own recordings)."""
    apps = [create_app(make_settings(valkey.url, tmp_path / name, key_prefix)) for name in "ab"]
    servers = [await aiohttp_server(app) for app in apps]
    async with aiohttp.ClientSession() as http:
        yield Cluster([str(s.make_url("")).rstrip("/") for s in servers], apps, http, token)


async def fetch(cluster: Cluster, node: int, path: str) -> tuple[int, str, bytes]:
    async with cluster.http.get(cluster.urls[node] + path, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", ""), await response.read()


async def test_the_origin_serves_live_hls_and_the_replay_and_other_nodes_redirect_there(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    pc = await publisher_offer([EncodedVideoTrack("video/h264"), ToneAudioTrack()], "video/h264")
    assert pc.localDescription is not None
    async with cluster.http.post(
        f"{cluster.urls[0]}/whip/{room}",
        data=pc.localDescription.sdp,
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {anchor}"},
    ) as response:
        assert response.status == 201
        location = response.headers["Location"]
        await accept(pc, await response.text())
    try:

        async def hls_on_other_node() -> str | None:
            _, state = await cluster.api("GET", f"/api/rooms/{room}", node=1)
            return state.get("hls_url")

        hls_url = await until(hls_on_other_node, what="hls_url seen from the other node")
        status, redirect, _ = await fetch(cluster, 1, hls_url)
        assert status == 307
        assert redirect == cluster.urls[0] + hls_url
        status, _, body = await fetch(cluster, 0, hls_url)
        assert status == 200
        assert body.startswith(b"#EXTM3U")
        await asyncio.sleep(1.0)
    finally:
        async with cluster.http.delete(
            cluster.urls[0] + location, headers={"Authorization": f"Bearer {anchor}"}
        ):
            pass
        await pc.close()

    async def ready() -> dict[str, object] | None:
        _, answer = await cluster.api("GET", f"/api/rooms/{room}/replays", node=1)
        replays = answer
        return replays[0] if replays and replays[0]["status"] == "ready" else None

    replay = await until(ready, what="the replay, seen from the other node")
    path = str(replay["playback_url"])
    status, redirect, _ = await fetch(cluster, 1, path)
    assert status == 307
    assert redirect == cluster.urls[0] + path
    status, _, body = await fetch(cluster, 0, path)
    assert status == 200
    assert b"#EXT-X-ENDLIST" in body


async def test_deleting_a_recording_through_another_node_stops_it_there_first(
    cluster: Cluster,
) -> None:
    """The recording node learns of the deletion, stops recording, stops serving its live
    HLS and removes the files before the other node answers; the live goes on."""
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    pc, location = await publish(cluster, room, anchor)
    viewer = Viewer()
    try:
        replay_id = await until(lambda: recording_id(cluster, room), what="the recording")
        directory = cluster.apps[0][RECORDINGS].root / replay_id
        hls_url = f"/hls/{room}/index.m3u8"

        async def live_hls() -> bool:
            return (await fetch(cluster, 0, hls_url))[0] == 200

        await until(live_hls, what="live HLS from the recording node")
        assert directory.is_dir()

        status, answer = await cluster.api("DELETE", f"/api/replays/{replay_id}", anchor, node=1)
        assert (status, answer) == (200, {"deleted": replay_id})
        assert not directory.exists()  # stopped and removed before the answer
        for node in (0, 1):
            status, _, body = await fetch(cluster, node, hls_url)
            assert status == 404, (node, status)
            assert json.loads(body)["error"]["code"] == "hls_not_available"
            status, answer = await cluster.api("GET", f"/api/replays/{replay_id}", node=node)
            assert (status, answer["error"]["code"]) == (404, "replay_not_found")
            _, state = await cluster.api("GET", f"/api/rooms/{room}", node=node)
            assert state["status"] == "live"
            assert state["hls_url"] is None

        # The publication goes on: a new viewer of the recording node gets video.
        async with cluster.http.post(
            f"{cluster.urls[0]}/whep/{room}",
            data=(await viewer.offer()).encode(),
            headers={"Content-Type": "application/sdp"},
        ) as response:
            assert response.status == 201, await response.text()
            await accept(viewer.pc, await response.text())
        await viewer.wait_frames("video", 30, timeout_s=30)
        assert not directory.exists()  # and nothing records it again
    finally:
        await viewer.close()
        async with cluster.http.delete(
            cluster.urls[0] + location, headers={"Authorization": f"Bearer {anchor}"}
        ):
            pass
        await pc.close()

    async def offline() -> bool:
        _, state = await cluster.api("GET", f"/api/rooms/{room}", node=1)
        return state["status"] != "live"

    await until(offline, what="the room to go offline")
    await asyncio.sleep(1.0)  # the recorder's end, had it not been stopped, would index it
    for node in (0, 1):
        assert (await cluster.api("GET", f"/api/rooms/{room}/replays", node=node))[1] == []
    assert not directory.exists()


async def test_a_recording_whose_index_entry_vanished_stops_on_its_node(
    cluster: Cluster,
) -> None:
    """A deletion this node never saw asked for (the entry simply gone, as after another
    node gave up waiting) still stops the recording and removes its files."""
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    pc, location = await publish(cluster, room, anchor)
    try:
        replay_id = await until(lambda: recording_id(cluster, room), what="the recording")
        recordings = cluster.apps[0][RECORDINGS]
        directory = recordings.root / replay_id
        replay = await recordings.index.get(replay_id)
        assert replay is not None
        await recordings.index.forget(replay.room, replay.id)

        async def removed() -> bool:
            return not directory.exists() and not recordings.is_recording(replay_id)

        await until(removed, timeout_s=20.0, what="the recording to stop and its files to go")
        status, _, _ = await fetch(cluster, 0, f"/hls/{room}/index.m3u8")
        assert status == 404
    finally:
        async with cluster.http.delete(
            cluster.urls[0] + location, headers={"Authorization": f"Bearer {anchor}"}
        ):
            pass
        await pc.close()


async def publish(cluster: Cluster, room: str, anchor: str) -> tuple[RTCPeerConnection, str]:
    """An aiortc publisher (H.264 and Opus) on node 0, over WHIP."""
    pc = await publisher_offer([EncodedVideoTrack("video/h264"), ToneAudioTrack()], "video/h264")
    assert pc.localDescription is not None
    async with cluster.http.post(
        f"{cluster.urls[0]}/whip/{room}",
        data=pc.localDescription.sdp,
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {anchor}"},
    ) as response:
        assert response.status == 201, await response.text()
        location = response.headers["Location"]
        await accept(pc, await response.text())
    return pc, location


async def recording_id(cluster: Cluster, room: str) -> str | None:
    """The id of the room's recording in progress, as the other node lists it."""
    _, replays = await cluster.api("GET", f"/api/rooms/{room}/replays", node=1)
    return str(replays[0]["id"]) if replays and replays[0]["status"] == "recording" else None


async def test_deleting_a_recording_of_a_node_that_is_gone_does_not_wait_for_it(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """A recording left by a node no longer alive is forgotten at once; that node's files
    go at its next start (recovery finds no replay, the sweep removes them)."""
    room = await cluster.room()
    recordings = cluster.apps[1][RECORDINGS]
    replay_id = f"{room}-0123456789ab"
    await recordings.index.create(
        replay_id,
        room,
        anchor="alice",
        node_url="http://127.0.0.1:9",
        node_id="a-node-long-gone",
        started_at=int(time.time() * 1000),
        video_codec="h264",
        fmt="hls",
    )
    anchor = cluster.token("anchor", "alice")
    with caplog.at_level(logging.WARNING, logger="livecommerce.replays"):
        status, answer = await cluster.api("DELETE", f"/api/replays/{replay_id}", anchor, node=1)
    assert (status, answer) == (200, {"deleted": replay_id})
    assert await recordings.index.get(replay_id, deleting=True) is None
    assert "did not stop it" not in caplog.text
