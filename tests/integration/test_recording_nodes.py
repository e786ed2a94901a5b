"""Live HLS and replay files on a deployment of two nodes: the node that records serves
the files, any other answers 307 to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from clients.anchor.testsrc import ToneAudioTrack
from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory, make_settings
from tests.integration.cluster import Cluster, ServerFactory
from tests.integration.encoded_source import EncodedVideoTrack
from tests.integration.media_peers import accept, publisher_offer
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
