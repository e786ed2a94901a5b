"""Replay routes under attack: odd ids and file names, the wrong roles and rooms, bad buy
bodies and a buyer who will not stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import RECORDINGS
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product
from tests.integration.test_recording_replay_buy import replay_showing

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"recording": {"replay_buys_per_minute": 3}}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def a_replay(site: Cluster) -> tuple[str, str, dict[str, Any]]:
    room = await site.room()
    item = await product(site, room)
    return room, await replay_showing(site, room, item), item


async def raw_get(site: Cluster, path: str) -> tuple[int, Any]:
    async with site.http.get(site.urls[0] + path, allow_redirects=False) as response:
        body = await response.json(content_type=None)
        return response.status, body


@pytest.mark.parametrize(
    "replay_id",
    [
        "nope",
        "x" * 300,
        "room-ZZZZZZZZZZZZ",
        "room-%00abcdefabcd",
        "..%2F..%2Fetc",
        "a b-0123456789ab",
    ],
)
async def test_odd_replay_ids_are_404_replay_not_found(site: Cluster, replay_id: str) -> None:
    for path in (f"/api/replays/{replay_id}", f"/replays/{replay_id}/index.m3u8"):
        status, body = await raw_get(site, path)
        assert status == 404, path
        assert body["error"]["code"] == "replay_not_found"


@pytest.mark.parametrize(
    "name",
    [
        "recording.json",
        "index.m3u8.tmp",
        "seg_000000.m4s.part",
        "video.part.webm",
        "..%2Frecording.json",
        "%2e%2e",
        "seg_1.m4s",
        "INIT.MP4",
    ],
)
async def test_only_the_recordings_own_files_are_served(site: Cluster, name: str) -> None:
    room, replay, _ = await a_replay(site)
    directory = site.apps[0][RECORDINGS].root / replay
    directory.mkdir(parents=True)
    (directory / "recording.json").write_text('{"state": "done"}')
    for path in (f"/replays/{replay}/{name}", f"/hls/{room}/{name}"):
        status, body = await raw_get(site, path)
        assert status == 404, path
        assert body["error"]["code"] in ("not_found", "hls_not_available", "replay_not_found")


async def test_deleting_a_replay_takes_its_anchor_or_an_admin(site: Cluster) -> None:
    room, replay, _ = await a_replay(site)
    other_room = await site.room()
    attempts = {
        None: (401, "unauthorized"),
        site.token("viewer", "bob"): (403, "forbidden_role"),
        site.token("moderator", "mo"): (403, "forbidden_role"),
        site.token("anchor", "eve"): (403, "not_your_room"),
        site.token("anchor", "alice", other_room): (403, "not_your_room"),
    }
    for who, (status, code) in attempts.items():
        answer = await site.api("DELETE", f"/api/replays/{replay}", who)
        assert answer[0] == status, who
        assert answer[1]["error"]["code"] == code
    assert (await site.api("DELETE", f"/api/replays/{replay}", site.token("admin", "root")))[
        0
    ] == 200
    assert (await site.api("GET", f"/api/replays/{replay}"))[0] == 404
    assert (await site.api("GET", f"/api/rooms/{room}/replays"))[1] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "missing_field"),
        ({"product_id": "p"}, "missing_field"),
        ({"product_id": 5, "key": "k"}, "invalid_field"),
        ({"product_id": "p", "key": "k" * 129}, "invalid_field"),
        ({"product_id": "p", "key": "k\u202e"}, "invalid_field"),
        ({"product_id": "p", "key": "k", "qty": 0}, "invalid_field"),
        ({"product_id": "p", "key": "k", "qty": 101}, "invalid_field"),
        ({"product_id": "p", "key": "k", "qty": "1"}, "invalid_field"),
        ({"product_id": "p", "key": "k", "price_cents": 1}, "unknown_field"),
    ],
)
async def test_bad_buy_bodies_are_400_and_order_nothing(
    site: Cluster, body: dict[str, Any], code: str
) -> None:
    _, replay, _ = await a_replay(site)
    status, answer = await site.api(
        "POST", f"/api/replays/{replay}/orders", site.token("viewer", "bob"), body
    )
    assert status == 400
    assert answer["error"]["code"] == code


async def test_buying_needs_a_buyer_of_this_room_and_is_rate_limited(site: Cluster) -> None:
    _, replay, item = await a_replay(site)
    other_room = await site.room()
    path = f"/api/replays/{replay}/orders"
    body = {"product_id": item["id"], "key": "k"}
    assert (await site.api("POST", path, None, body))[0] == 401
    assert (await site.api("POST", path, site.token("backend", "b"), body))[0] == 403
    scoped = site.token("viewer", "bob", other_room)
    assert (await site.api("POST", path, scoped, body))[1]["error"]["code"] == "not_your_room"
    statuses = [
        (await site.api("POST", path, site.token("viewer", "carol"), {**body, "key": f"k{n}"}))[0]
        for n in range(4)
    ]
    assert statuses[:3] == [201, 201, 201]
    assert statuses[3] == 429


@pytest.fixture
async def token_site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"auth": {"viewer_token_required": True}}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def test_video_files_need_a_token_where_watching_does(token_site: Cluster) -> None:
    site = token_site
    room, replay, _ = await a_replay(site)
    directory = site.apps[0][RECORDINGS].root / replay
    directory.mkdir(parents=True)
    (directory / "index.m3u8").write_text("#EXTM3U\n")
    other_room = await site.room()
    path = f"/replays/{replay}/index.m3u8"
    assert (await raw_get(site, path))[0] == 401
    assert (await raw_get(site, f"/hls/{room}/index.m3u8"))[0] == 401
    viewer = {"Authorization": f"Bearer {site.token('viewer', 'bob')}"}
    async with site.http.get(site.urls[0] + path, headers=viewer) as response:
        assert response.status == 200
    scoped = {"Authorization": f"Bearer {site.token('viewer', 'bob', other_room)}"}
    async with site.http.get(site.urls[0] + path, headers=scoped) as response:
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "not_your_room"
    async with site.http.get(f"{site.urls[0]}/hls/{room}/index.m3u8", headers=viewer) as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "hls_not_available"
