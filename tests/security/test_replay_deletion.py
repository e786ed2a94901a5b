"""Deleting a replay that is still recording: a refused DELETE, on any node, leaves the
recording alone; a replay marked for deletion is gone for everyone at once (no detail,
no list, no files, no buying) while its recording node stops it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.replays.models import new_replay_id
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import RECORDINGS
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token):
        yield value


async def a_recording(site: Cluster, room: str) -> str:
    """A replay indexed as recording on node 0 (as the recorder indexes it)."""
    replay_id = new_replay_id(room)
    await site.apps[0][RECORDINGS].index.create(
        replay_id,
        room,
        anchor="alice",
        node_url=site.urls[0],
        started_at=int(time.time() * 1000),
        video_codec="h264",
        fmt="hls",
    )
    return replay_id


async def test_a_refused_delete_through_another_node_leaves_the_recording_alone(
    site: Cluster,
) -> None:
    room = await site.room()
    replay_id = await a_recording(site, room)
    other_room = await site.room()
    attempts = {
        None: (401, "unauthorized"),
        site.token("viewer", "bob"): (403, "forbidden_role"),
        site.token("moderator", "mo"): (403, "forbidden_role"),
        site.token("anchor", "eve"): (403, "not_your_room"),
        site.token("anchor", "alice", other_room): (403, "not_your_room"),
    }
    for who, (status, code) in attempts.items():
        answer = await site.api("DELETE", f"/api/replays/{replay_id}", who, node=1)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), who
    replay = await site.apps[1][RECORDINGS].index.get(replay_id, deleting=True)
    assert replay is not None
    assert not replay.deleting
    status, listed = await site.api("GET", f"/api/rooms/{room}/replays", node=1)
    assert (status, [r["id"] for r in listed]) == (200, [replay_id])


async def test_a_replay_marked_for_deletion_is_gone_for_everyone_at_once(
    site: Cluster,
) -> None:
    room = await site.room()
    item = await product(site, room)
    replay_id = await a_recording(site, room)
    index = site.apps[0][RECORDINGS].index
    replay = await index.get(replay_id)
    assert replay is not None
    await index.mark_deleting(replay)
    buyer = site.token("viewer", "bob")
    for node in (0, 1):
        status, answer = await site.api("GET", f"/api/replays/{replay_id}", node=node)
        assert (status, answer["error"]["code"]) == (404, "replay_not_found")
        status, answer = await site.api(
            "POST",
            f"/api/replays/{replay_id}/orders",
            buyer,
            {"product_id": item["id"], "key": "k1"},
            node=node,
        )
        assert (status, answer["error"]["code"]) == (404, "replay_not_found")
        status, answer = await site.api("GET", f"/replays/{replay_id}/index.m3u8", node=node)
        assert (status, answer["error"]["code"]) == (404, "replay_not_found")
        assert (await site.api("GET", f"/api/rooms/{room}/replays", node=node))[1] == []
        status, answer = await site.api(
            "DELETE", f"/api/replays/{replay_id}", site.token("anchor", "alice"), node=node
        )
        assert (status, answer["error"]["code"]) == (404, "replay_not_found")
