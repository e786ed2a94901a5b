"""Recordings through the whole node: WHIP in, live HLS out, a replay with its timeline."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection

from clients.anchor.testsrc import ToneAudioTrack
from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import RECORDINGS
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.channel_client import ChannelClient
from tests.integration.encoded_source import EncodedVideoTrack
from tests.integration.media_peers import accept, publisher_offer
from tests.integration.test_rooms_api import assert_error, bearer, create_room

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> TestClient:
    settings = make_settings(
        valkey.url, tmp_path, key_prefix, media={"publisher_idle_timeout_s": 3.0}
    )
    return await aiohttp_client(create_app(settings))


async def go_live(
    client: TestClient, token: TokenFactory, room: str, mime: str
) -> tuple[RTCPeerConnection, str]:
    pc = await publisher_offer([EncodedVideoTrack(mime), ToneAudioTrack()], mime)
    assert pc.localDescription is not None
    response = await client.post(
        f"/whip/{room}",
        data=pc.localDescription.sdp.encode(),
        headers={"Content-Type": "application/sdp", **bearer(token("anchor", "alice"))},
    )
    assert response.status == 201, await response.text()
    await accept(pc, await response.text())
    return pc, response.headers["Location"]


async def until(probe: Any, timeout_s: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def get_json(client: TestClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.json()


async def ready_replay(client: TestClient, room: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        replays = await get_json(client, f"/api/rooms/{room}/replays")
        return replays[0] if replays and replays[0]["status"] == "ready" else None

    replay: dict[str, Any] = await until(probe, what="the replay to be ready")
    return replay


async def test_an_h264_publication_is_live_hls_then_a_replay_with_its_timeline(
    node: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(node, token))["id"]
    anchor = bearer(token("anchor", "alice"))
    product = await (
        await node.post(
            f"/api/rooms/{room}/products",
            json={"sku": "TEA-1", "title": "Oolong", "price_cents": 1800, "currency": "EUR"},
            headers=anchor,
        )
    ).json()
    pc, location = await go_live(node, token, room, "video/h264")
    chat = await ChannelClient.connect(
        node.session, str(node.make_url("")), room, token("viewer", "bob")
    )
    try:
        hls_url = await until(lambda: _hls_url(node, room), what="hls_url in the room state")
        assert hls_url == f"/hls/{room}/index.m3u8"
        live = await node.get(hls_url)
        assert live.status == 200
        assert live.headers["Content-Type"] == "application/vnd.apple.mpegurl"
        playlist = await live.text()
        assert "#EXT-X-PLAYLIST-TYPE:EVENT" in playlist
        assert "#EXT-X-ENDLIST" not in playlist
        first = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
        segment = await node.get(f"/hls/{room}/{first}")
        assert segment.status == 200
        assert (await segment.read())[4:8] in (b"moof", b"styp")
        assert (await node.get(f"/hls/{room}/init.mp4")).status == 200

        pinned = await node.post(
            f"/api/rooms/{room}/pin", json={"product_id": product["id"]}, headers=anchor
        )
        assert pinned.status == 200, await pinned.text()
        await chat.send({"type": "chat", "text": "how does it taste?"})
        terms = {
            "product_id": product["id"],
            "price_cents": 900,
            "quantity": 5,
            "per_user_limit": 2,
            "duration_s": 600,
            "reservation_ttl_s": 300,
        }
        created = await node.post(f"/api/rooms/{room}/sales", json=terms, headers=anchor)
        assert created.status == 201, await created.text()
        sale = await created.json()
        await chat.wait_for("sale_started", timeout_s=10)
        await chat.send({"type": "buy", "sale": sale["id"], "qty": 1, "key": "k1"})
        assert (await chat.wait_for("buy_result", timeout_s=10))["ok"] is True
        stopped = await node.post(f"/api/rooms/{room}/sales/{sale['id']}/stop", headers=anchor)
        assert stopped.status == 200, await stopped.text()
        await chat.wait_for("sale_ended", timeout_s=10)
        await asyncio.sleep(2.5)
    finally:
        await chat.close()
        await node.delete(location, headers=anchor)
        await pc.close()

    replay = await ready_replay(node, room)
    assert replay["video_codec"] == "h264"
    assert replay["playback_url"] == f"/replays/{replay['id']}/index.m3u8"
    assert 3.0 <= replay["duration_s"] <= 60.0
    assert (await get_json(node, f"/api/rooms/{room}"))["hls_url"] is None

    detail = await get_json(node, f"/api/replays/{replay['id']}")
    kinds = {entry["type"]: entry for entry in detail["timeline"]}
    assert kinds["product_pinned"]["product"]["id"] == product["id"]
    assert kinds["chat"]["text"] == "how does it taste?"
    assert kinds["sale_started"]["sale"]["id"] == kinds["sale_ended"]["sale"]["id"]
    assert kinds["orders"]["count"] == 1
    assert kinds["orders"]["interval_s"] == 10
    assert kinds["sale_started"]["t"] <= kinds["orders"]["t"] + 10 <= kinds["sale_ended"]["t"] + 10
    assert all(0 <= entry["t"] <= detail["duration_s"] + 2 for entry in detail["timeline"])

    vod = await node.get(replay["playback_url"])
    text = await vod.text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    target = int(text.split("#EXT-X-TARGETDURATION:")[1].splitlines()[0])
    durations = [float(line[8:].rstrip(",")) for line in text.splitlines() if "#EXTINF:" in line]
    assert all(round(d) <= target for d in durations)

    name = next(line for line in text.splitlines() if line.endswith(".m4s"))
    whole = await node.get(f"/replays/{replay['id']}/{name}")
    body = await whole.read()
    etag = whole.headers["ETag"]
    assert "immutable" in whole.headers["Cache-Control"]
    part = await node.get(f"/replays/{replay['id']}/{name}", headers={"Range": "bytes=8-99"})
    assert part.status == 206
    assert await part.read() == body[8:100]
    again = await node.get(f"/replays/{replay['id']}/{name}", headers={"If-None-Match": etag})
    assert again.status == 304

    home = await get_json(node, "/api/replays")
    assert replay["id"] in [r["id"] for r in home["replays"]]

    other = await node.delete(
        f"/api/replays/{replay['id']}", headers=bearer(token("anchor", "eve"))
    )
    await assert_error(other, 403, "not_your_room")
    deleted = await node.delete(f"/api/replays/{replay['id']}", headers=anchor)
    assert deleted.status == 200
    await assert_error(await node.get(f"/api/replays/{replay['id']}"), 404, "replay_not_found")
    await assert_error(await node.get(replay["playback_url"]), 404, "replay_not_found")


async def _hls_url(node: TestClient, room: str) -> str | None:
    state = await get_json(node, f"/api/rooms/{room}")
    return state.get("hls_url")


async def test_a_vp8_publication_becomes_a_seekable_webm_served_with_ranges(
    node: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(node, token))["id"]
    anchor = bearer(token("anchor", "alice"))
    item = await (
        await node.post(
            f"/api/rooms/{room}/products",
            json={"sku": "T", "title": "Tea", "price_cents": 900, "currency": "EUR"},
            headers=anchor,
        )
    ).json()
    pinned = await node.post(
        f"/api/rooms/{room}/pin", json={"product_id": item["id"]}, headers=anchor
    )
    assert pinned.status == 200  # before the live: the timeline opens with it
    pc, location = await go_live(node, token, room, "video/vp8")
    try:
        await asyncio.sleep(4)
        state = await get_json(node, f"/api/rooms/{room}")
        assert state["status"] == "live"
        assert state["hls_url"] is None
        await assert_error(await node.get(f"/hls/{room}/index.m3u8"), 404, "hls_not_available")
    finally:
        await node.delete(location, headers=bearer(token("anchor", "alice")))
        await pc.close()
    replay = await ready_replay(node, room)
    assert replay["video_codec"] == "vp8"
    assert replay["playback_url"].endswith("/video.webm")
    response = await node.get(replay["playback_url"], headers={"Range": "bytes=0-3"})
    assert response.status == 206
    assert await response.read() == b"\x1a\x45\xdf\xa3"  # EBML
    assert response.headers["Content-Type"] == "video/webm"
    timeline = (await get_json(node, f"/api/replays/{replay['id']}"))["timeline"]
    assert timeline[0]["type"] == "product_pinned"
    assert timeline[0]["t"] == 0
    assert timeline[0]["product"]["id"] == item["id"]


async def test_a_publication_that_never_sends_media_leaves_no_replay(
    node: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(node, token))["id"]
    pc, location = await go_live(node, token, room, "video/h264")
    await pc.close()  # gone before a single frame: the idle timeout (3 s) ends it
    await node.delete(location, headers=bearer(token("anchor", "alice")))

    async def nothing_recording() -> bool:
        replays = await get_json(node, f"/api/rooms/{room}/replays")
        return not replays

    await until(nothing_recording, what="the empty recording to be dropped")


async def test_the_replays_of_an_unknown_room_are_a_404_and_of_a_new_room_an_empty_list(
    node: TestClient, token: TokenFactory
) -> None:
    await assert_error(await node.get("/api/rooms/nosuchroom/replays"), 404, "room_not_found")
    room = await create_room(node, token)
    response = await node.get(f"/api/rooms/{room['id']}/replays")
    assert response.status == 200
    assert await response.json() == []


async def test_deleting_a_replay_while_it_records_stops_the_recording_first(
    node: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(node, token))["id"]
    anchor = bearer(token("anchor", "alice"))
    pc, location = await go_live(node, token, room, "video/h264")
    try:
        hls_url = await until(lambda: _hls_url(node, room), what="hls_url in the room state")
        replays = await get_json(node, f"/api/rooms/{room}/replays")
        assert [r["status"] for r in replays] == ["recording"]
        replay_id = replays[0]["id"]
        directory = node.app[RECORDINGS].root / replay_id
        assert directory.is_dir()

        deleted = await node.delete(f"/api/replays/{replay_id}", headers=anchor)
        assert deleted.status == 200
        assert await deleted.json() == {"deleted": replay_id}
        assert not directory.exists()
        await assert_error(await node.get(hls_url), 404, "hls_not_available")
        state = await get_json(node, f"/api/rooms/{room}")
        assert (state["status"], state["hls_url"]) == ("live", None)
        await asyncio.sleep(2.5)  # segments would have come meanwhile
        assert not directory.exists()
        assert await get_json(node, f"/api/rooms/{room}/replays") == []
    finally:
        await node.delete(location, headers=anchor)
        await pc.close()


async def test_a_sale_open_when_recording_starts_opens_the_timeline(
    node: TestClient, token: TokenFactory
) -> None:
    """The pinned product and the sale already open are at 0 s, each once; a sale that
    opens later is at its time."""
    room = (await create_room(node, token))["id"]
    anchor = bearer(token("anchor", "alice"))
    product = await (
        await node.post(
            f"/api/rooms/{room}/products",
            json={"sku": "T", "title": "Tea", "price_cents": 900, "currency": "EUR"},
            headers=anchor,
        )
    ).json()
    assert (
        await node.post(
            f"/api/rooms/{room}/pin", json={"product_id": product["id"]}, headers=anchor
        )
    ).status == 200
    terms = {
        "product_id": product["id"],
        "price_cents": 500,
        "quantity": 5,
        "per_user_limit": 1,
        "duration_s": 600,
        "reservation_ttl_s": 300,
    }
    created = await node.post(f"/api/rooms/{room}/sales", json=terms, headers=anchor)
    assert created.status == 201, await created.text()
    early = await created.json()
    pc, location = await go_live(node, token, room, "video/h264")
    try:
        await until(lambda: _hls_url(node, room), what="the recording's first segment")
        later = await (
            await node.post(f"/api/rooms/{room}/sales", json=terms, headers=anchor)
        ).json()
        await asyncio.sleep(2.5)
        for sale in (early, later):
            stop = await node.post(f"/api/rooms/{room}/sales/{sale['id']}/stop", headers=anchor)
            assert stop.status == 200, await stop.text()
        await asyncio.sleep(1.0)
    finally:
        await node.delete(location, headers=anchor)
        await pc.close()
    replay = await ready_replay(node, room)
    timeline = (await get_json(node, f"/api/replays/{replay['id']}"))["timeline"]
    started = [e for e in timeline if e["type"] == "sale_started"]
    ended = [e for e in timeline if e["type"] == "sale_ended"]
    assert [e["sale"]["id"] for e in started] == [early["id"], later["id"]]
    assert started[0]["t"] == 0
    assert started[0]["sale"]["status"] == "open"
    assert started[1]["t"] > 0
    assert sorted(e["sale"]["id"] for e in ended) == sorted([early["id"], later["id"]])
    pins = [e for e in timeline if e["type"] == "product_pinned"]
    assert [(e["t"], e["product"]["id"]) for e in pins] == [(0, product["id"])]
