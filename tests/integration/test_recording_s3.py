"""Finished replays in an S3-compatible bucket: a local S3 server (moto's server mode)
receives the files; the node serves them from there."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from aiohttp.test_utils import TestClient
from moto.server import ThreadedMotoServer

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.test_recording_api import get_json, go_live, until
from tests.integration.test_rooms_api import bearer, create_room

pytestmark = pytest.mark.timeout(120)
BUCKET = "replays-test"
KEY_ID, SECRET = "testing-key", "testing-secret"


@pytest.fixture
def s3_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def objects(url: str) -> dict[str, bytes]:
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


@pytest.fixture
async def node(
    aiohttp_client: ClientFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    s3_url: str,
) -> TestClient:
    recording = {
        "s3_bucket": BUCKET,
        "s3_endpoint_url": s3_url,
        "s3_access_key_id": KEY_ID,
        "s3_secret_access_key": SECRET,
        "s3_prefix": "lc/",
    }
    settings = make_settings(
        valkey.url,
        tmp_path,
        key_prefix,
        recording=recording,
        media={"publisher_idle_timeout_s": 3.0},
    )
    return await aiohttp_client(create_app(settings))


async def test_a_finished_replay_is_uploaded_served_from_the_bucket_and_deleted_there(
    node: TestClient, token: TokenFactory, s3_url: str, tmp_path: Path
) -> None:
    room = (await create_room(node, token))["id"]
    pc, location = await go_live(node, token, room, "video/h264")
    try:
        await asyncio.sleep(5.0)
    finally:
        await node.delete(location, headers=bearer(token("anchor", "alice")))
        await pc.close()

    async def uploaded() -> dict[str, Any] | None:
        replays = await get_json(node, f"/api/rooms/{room}/replays")
        return replays[0] if replays and replays[0]["storage"] == "s3" else None

    replay = await until(uploaded, what="the replay's upload")
    stored = objects(s3_url)
    names = {key.removeprefix(f"lc/{replay['id']}/") for key in stored}
    assert {"index.m3u8", "init.mp4", "seg_000000.m4s"} <= names
    assert not (tmp_path / "recordings" / replay["id"]).exists()  # the disk is freed

    playlist = await node.get(replay["playback_url"])  # passed through from the bucket
    assert playlist.status == 200
    text = await playlist.text()
    assert text.encode() == stored[f"lc/{replay['id']}/index.m3u8"]
    assert "#EXT-X-ENDLIST" in text
    segment = await node.get(f"/replays/{replay['id']}/seg_000000.m4s", allow_redirects=False)
    assert segment.status == 307
    signed = segment.headers["Location"]
    assert signed.startswith(f"{s3_url}/{BUCKET}/lc/{replay['id']}/seg_000000.m4s?")
    async with aiohttp.ClientSession() as http, http.get(signed) as fetched:
        assert fetched.status == 200  # the presigned URL works without credentials
        assert await fetched.read() == stored[f"lc/{replay['id']}/seg_000000.m4s"]

    deleted = await node.delete(
        f"/api/replays/{replay['id']}", headers=bearer(token("anchor", "alice"))
    )
    assert deleted.status == 200
    assert objects(s3_url) == {}
