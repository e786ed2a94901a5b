"""WHIP ingest and WHEP playback over real HTTP, real aiortc peers, the real store."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import LIVE, ROOMS
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.media_peers import (
    Viewer,
    accept,
    publisher_offer,
    synthetic_tracks,
    wait_for,
)
from tests.integration.test_rooms_api import assert_error, bearer, create_room

pytestmark = pytest.mark.timeout(90)

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def media_client(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> TestClient:
    settings = make_settings(
        valkey.url, tmp_path, key_prefix, media={"publisher_idle_timeout_s": 3.0}
    )
    return await aiohttp_client(create_app(settings))


def offer_of(pc: RTCPeerConnection) -> str:
    assert pc.localDescription is not None
    return pc.localDescription.sdp


async def whip(
    client: TestClient, room: str, token: str, sdp: str, content_type: str = "application/sdp"
) -> Any:
    return await client.post(
        f"/whip/{room}",
        data=sdp.encode(),
        headers={"Content-Type": content_type, **bearer(token)},
    )


async def go_live(
    client: TestClient, token: TokenFactory, room: str, width: int = 320, height: int = 180
) -> tuple[RTCPeerConnection, str]:
    pc = await publisher_offer(synthetic_tracks(width, height))
    response = await whip(client, room, token("anchor", "alice"), offer_of(pc))
    assert response.status == 201, await response.text()
    await accept(pc, await response.text())
    return pc, response.headers["Location"]


async def watch(client: TestClient, room: str) -> tuple[Viewer, str]:
    viewer = Viewer()
    response = await client.post(f"/whep/{room}", data=(await viewer.offer()).encode(), headers=SDP)
    assert response.status == 201, await response.text()
    await accept(viewer.pc, await response.text())
    return viewer, response.headers["Location"]


async def room_status(client: TestClient, room: str) -> str:
    return str((await (await client.get(f"/api/rooms/{room}")).json())["status"])


async def test_whip_answers_201_with_location_etag_and_a_complete_answer(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    pc = await publisher_offer(synthetic_tracks())
    response = await whip(media_client, room, token("anchor", "alice"), offer_of(pc))

    assert response.status == 201
    assert response.content_type == "application/sdp"
    location = response.headers["Location"]
    assert re.fullmatch(rf"/whip/{room}/[0-9a-f]{{12}}\.[A-Za-z0-9_-]{{22}}", location)
    assert response.headers["ETag"] == f'"{location.rsplit("/", 1)[1]}"'
    assert response.headers["Accept-Patch"] == "application/trickle-ice-sdpfrag"
    assert "Location" in response.headers["Access-Control-Expose-Headers"]
    answer = await response.text()
    assert "a=candidate:" in answer
    assert "a=end-of-candidates" in answer
    assert "stereo=1" in answer
    assert await room_status(media_client, room) == "live"
    await pc.close()


async def test_ten_viewers_decode_the_published_size_and_get_audio(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    pc, _ = await go_live(media_client, token, room, 320, 180)
    viewers = [(await watch(media_client, room))[0] for _ in range(10)]
    for viewer in viewers:
        await viewer.wait_frames("video", 10, timeout_s=20)
        await viewer.wait_frames("audio", 10, timeout_s=20)

    assert all(v.sizes == {(320, 180)} for v in viewers)
    assert all(v.layouts == {"stereo"} for v in viewers)
    stats = await (
        await media_client.get(f"/api/rooms/{room}/media", headers=bearer(token("anchor", "alice")))
    ).json()
    assert stats["viewers"] == 10
    assert stats["publication"]["tracks"]["video"]["viewers"] == 10
    for viewer in viewers:
        await viewer.close()
    await pc.close()


async def test_delete_ends_the_publication_its_viewers_and_the_room_goes_offline(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    pc, location = await go_live(media_client, token, room)
    viewer, viewer_location = await watch(media_client, room)
    await viewer.wait_frames("video", 3)

    response = await media_client.delete(location, headers=bearer(token("anchor", "alice")))
    assert response.status == 200
    assert await room_status(media_client, room) == "scheduled"
    await wait_for(lambda: viewer.pc.connectionState == "closed", 10, "viewer closed")
    # Clients that closed (or were closed) first still get 200 for their DELETE.
    again = await media_client.delete(location, headers=bearer(token("anchor", "alice")))
    assert again.status == 200
    assert (await media_client.delete(viewer_location)).status == 200
    await viewer.close()
    await pc.close()


async def test_a_publisher_that_closes_before_delete_still_gets_200(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    pc, location = await go_live(media_client, token, room)
    await wait_for(lambda: pc.connectionState == "connected", 10, "connected")
    await pc.close()
    await asyncio.sleep(0.5)

    response = await media_client.delete(location, headers=bearer(token("anchor", "alice")))
    assert response.status == 200
    await wait_for_status(media_client, room, "scheduled")


async def wait_for_status(client: TestClient, room: str, status: str) -> None:
    for _ in range(200):
        if await room_status(client, room) == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"room never became {status}")


async def test_a_publisher_gone_silent_takes_the_room_offline(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    pc, _ = await go_live(media_client, token, room)
    await wait_for(lambda: pc.connectionState == "connected", 10, "connected")
    await asyncio.sleep(0.3)
    for sender in pc.getSenders():
        await sender.stop()  # no more media and no goodbye: like losing the network

    await wait_for_status(media_client, room, "scheduled")
    await pc.close()


async def test_the_same_anchor_reconnecting_replaces_its_session_and_keeps_viewers(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    first, first_location = await go_live(media_client, token, room)
    viewer, _ = await watch(media_client, room)
    await viewer.wait_frames("video", 3)

    second, second_location = await go_live(media_client, token, room)
    assert second_location != first_location
    seen = viewer.frames["video"]
    await viewer.wait_frames("video", seen + 15, timeout_s=15)
    assert await room_status(media_client, room) == "live"
    old = await media_client.delete(first_location, headers=bearer(token("anchor", "alice")))
    assert old.status == 200
    assert await room_status(media_client, room) == "live"  # the old session's end changes nothing
    for pc in (first, second):
        await pc.close()
    await viewer.close()


async def test_a_room_live_on_another_node_refuses_a_second_publisher(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    await media_client.app[ROOMS].go_live(
        room, "elsewhere-session", "http://10.9.9.9:8080", ttl_ms=60_000
    )
    pc = await publisher_offer(synthetic_tracks())
    response = await whip(media_client, room, token("anchor", "alice"), offer_of(pc))
    await assert_error(response, 409, "publisher_exists")

    viewer = Viewer()
    play = await media_client.post(
        f"/whep/{room}", data=(await viewer.offer()).encode(), headers=SDP, allow_redirects=False
    )
    assert play.status == 307
    assert play.headers["Location"] == f"http://10.9.9.9:8080/whep/{room}"
    await viewer.close()
    await pc.close()


async def test_ending_the_room_stops_ingest_and_playback(
    media_client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(media_client, token))["id"]
    pc, _ = await go_live(media_client, token, room)
    viewer, _ = await watch(media_client, room)
    await viewer.wait_frames("video", 3)

    ended = await media_client.post(
        f"/api/rooms/{room}/end", headers=bearer(token("moderator", "mo"))
    )
    assert ended.status == 200
    await wait_for(lambda: pc.connectionState == "closed", 10, "publisher closed")
    await wait_for(lambda: viewer.pc.connectionState == "closed", 10, "viewer closed")

    again = await publisher_offer(synthetic_tracks())
    response = await whip(media_client, room, token("anchor", "alice"), offer_of(again))
    await assert_error(response, 409, "room_ended")
    late = Viewer()
    play = await media_client.post(f"/whep/{room}", data=(await late.offer()).encode(), headers=SDP)
    await assert_error(play, 409, "room_ended")
    for closing in (pc, again):
        await closing.close()
    await viewer.close()
    await late.close()


async def test_a_room_left_live_by_a_dead_node_is_taken_offline(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    settings = make_settings(valkey.url, tmp_path, key_prefix, media={"live_heartbeat_s": 0.1})
    client = await aiohttp_client(create_app(settings))
    room = (await create_room(client, token))["id"]
    pc, _ = await go_live(client, token, room)
    dead = (await create_room(client, token))["id"]
    await client.app[ROOMS].go_live(dead, "gone", "http://10.9.9.9:8080", ttl_ms=300)

    await wait_for_status(client, dead, "scheduled")  # nobody vouched for it
    await asyncio.sleep(0.5)
    assert await room_status(client, room) == "live"  # this node's heartbeat keeps it
    await pc.close()


async def test_a_stream_the_store_no_longer_vouches_for_is_stopped(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    """E.g. another node expired it during a network split: the heartbeat learns it."""
    settings = make_settings(valkey.url, tmp_path, key_prefix, media={"live_heartbeat_s": 0.1})
    client = await aiohttp_client(create_app(settings))
    room = (await create_room(client, token))["id"]
    pc, location = await go_live(client, token, room)
    # Established first: a peer whose DTLS handshake the server cuts short only notices
    # when its own handshake gives up, long after this test's bound.
    await wait_for(lambda: pc.connectionState == "connected", 10, "the publisher connected")
    await client.app[ROOMS].go_offline(room, location.rsplit("/", 1)[1])

    await wait_for(lambda: pc.connectionState == "closed", 10, "the publisher closed")
    assert not client.app[LIVE].hub.is_live(room)
    await pc.close()


async def test_another_node_pulls_the_room_once_or_redirects_and_refuses_a_second_ingest(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    def node(**media: object) -> Any:
        return aiohttp_client(
            create_app(make_settings(valkey.url, tmp_path, key_prefix, media=media))
        )

    origin, relay_node, redirecting = await node(), await node(), await node(pull_from_origin=False)
    room = (await create_room(origin, token))["id"]
    pc, _ = await go_live(origin, token, room)
    origin_hub = origin.app[LIVE].hub

    viewers = [(await watch(relay_node, room))[0] for _ in range(2)]
    for viewer in viewers:
        await viewer.wait_frames("video", 5, timeout_s=15)
    assert viewers[0].sizes == {(320, 180)}
    assert origin_hub.stats(room)["viewers"] == 1  # type: ignore[index]  # one pull per node
    for viewer in viewers:
        await viewer.close()
    await wait_for(lambda: origin_hub.stats(room)["viewers"] == 0, 10, "the pull to stop")  # type: ignore[index]

    viewer = Viewer()
    offer = (await viewer.offer()).encode()
    moved = await redirecting.post(f"/whep/{room}", data=offer, headers=SDP, allow_redirects=False)
    assert moved.status == 307
    target = moved.headers["Location"]
    assert target == str(origin.make_url(f"/whep/{room}"))
    async with aiohttp.ClientSession() as http, http.post(target, data=offer, headers=SDP) as reply:
        assert reply.status == 201
        await accept(viewer.pc, await reply.text())
    await viewer.wait_frames("video", 5)

    second = await publisher_offer(synthetic_tracks())
    refused = await whip(relay_node, room, token("anchor", "alice"), offer_of(second))
    await assert_error(refused, 409, "publisher_exists")
    for closing in (pc, second):
        await closing.close()
    await viewer.close()


async def test_viewers_pulled_by_another_node_leave_when_the_publisher_ends(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    origin = await aiohttp_client(create_app(make_settings(valkey.url, tmp_path, key_prefix)))
    other = await aiohttp_client(create_app(make_settings(valkey.url, tmp_path, key_prefix)))
    room = (await create_room(origin, token))["id"]
    pc, location = await go_live(origin, token, room)
    viewer, _ = await watch(other, room)
    await viewer.wait_frames("video", 5, timeout_s=15)

    await origin.delete(location, headers=bearer(token("anchor", "alice")))
    await wait_for(lambda: viewer.pc.connectionState == "closed", 10, "the pulled viewer closed")
    await wait_for(lambda: not other.app[LIVE].hub.is_live(room), 10, "the pull ended")
    await viewer.close()
    await pc.close()
