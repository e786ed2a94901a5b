"""The node registry: nodes list themselves, leave on shutdown, lapse when they die; a
room whose origin node is gone is taken offline and may go live again at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.nodes.registry import NodeRegistry
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import LIVE, NODE_ID, NODES, ROOMS, STORE
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.channel_client import ChannelClient
from tests.integration.media_peers import publisher_offer, synthetic_tracks, wait_for
from tests.integration.test_rooms_api import assert_error, bearer, create_room
from tests.integration.test_whip_whep import (
    go_live,
    offer_of,
    room_status,
    wait_for_status,
    watch,
    whip,
)

FAST = {"server": {"node_heartbeat_s": 0.1}}


async def node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    **sections: dict[str, Any],
) -> TestClient:  # fmt: skip
    settings = make_settings(valkey.url, tmp_path, key_prefix, **{**FAST, **sections})
    return await aiohttp_client(create_app(settings))


async def listed(client: TestClient, token: TokenFactory) -> list[str]:
    response = await client.get("/api/nodes", headers=bearer(token("admin", "root")))
    assert response.status == 200
    return [entry["id"] for entry in (await response.json())["nodes"]]


async def test_every_node_lists_itself_for_admins_and_leaves_when_it_stops(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    first = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    second = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    ids = {first.app[NODE_ID], second.app[NODE_ID]}
    for _ in range(100):
        if set(await listed(first, token)) == ids:
            break
        await asyncio.sleep(0.05)
    assert set(await listed(first, token)) == ids
    body = await (await first.get("/api/nodes", headers=bearer(token("admin", "r")))).json()
    assert body["self"] == first.app[NODE_ID]
    entry = next(e for e in body["nodes"] if e["id"] == first.app[NODE_ID])
    assert entry["url"].startswith("http://")
    assert entry["seen_at"] < entry["expires_at"]

    await assert_error(
        await first.get("/api/nodes", headers=bearer(token("viewer", "v"))), 403, "forbidden_role"
    )
    await assert_error(await first.get("/api/nodes"), 401, "unauthorized")

    await second.close()  # a clean stop removes the entry at once, without waiting for it to lapse
    assert await listed(first, token) == [first.app[NODE_ID]]


async def test_an_entry_whose_beats_stopped_lapses(
    client: TestClient, key_prefix: str, token: TokenFactory
) -> None:
    keys = Keys(key_prefix)
    silent = NodeRegistry(
        client.app[STORE], keys, "0badc0ffee00", "http://10.9.9.9:8080", 1.0, lambda: 1_000
    )
    await silent.beat_once()  # "at" 1 s after the epoch: lapsed 3 s later, long ago
    assert await client.app[NODES].find("0badc0ffee00") is None
    assert "0badc0ffee00" not in await listed(client, token)
    # Pruned only long after lapsing (it is): the hash does not grow with dead nodes.
    assert not await client.app[STORE].hexists(keys.nodes(), "0badc0ffee00")


async def test_an_anchor_goes_live_at_once_on_a_node_when_its_origin_node_is_gone(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    room = (await create_room(client, token))["id"]
    # Live from a node that no longer beats, yet its stream's own heartbeat looks fresh.
    await client.app[ROOMS].go_live(room, "0deadnode000.abc", "http://10.9.9.9:8080", 60_000)
    async with aiohttp.ClientSession() as http:
        watcher = await ChannelClient.connect(http, str(client.make_url("")).rstrip("/"), room)
        await watcher.wait_for("welcome")
        pc, _ = await go_live(client, token, room)
        await watcher.wait_for("offline")
        await watcher.wait_for("live")
        assert await room_status(client, room) == "live"
        await watcher.close()
    await pc.close()


async def test_a_second_anchor_session_is_refused_while_its_origin_node_beats(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    other = NodeRegistry(client.app[STORE], Keys(key_prefix), "0a1170000000", "http://x:1", 60)
    await other.beat_once()
    room = (await create_room(client, token))["id"]
    await client.app[ROOMS].go_live(room, "0a1170000000.abc", "http://10.9.9.9:8080", 60_000)
    pc = await publisher_offer(synthetic_tracks())
    response = await whip(client, room, token("anchor", "alice"), offer_of(pc))
    await assert_error(response, 409, "publisher_exists")
    await pc.close()


async def test_the_sweep_takes_offline_the_rooms_of_nodes_missing_from_the_registry(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(
        aiohttp_client, valkey, tmp_path, key_prefix, media={"live_heartbeat_s": 0.1}
    )
    room = (await create_room(client, token))["id"]
    await client.app[ROOMS].go_live(room, "0deadnode000.abc", "http://10.9.9.9:8080", 60_000)
    await wait_for_status(client, room, "scheduled")


async def test_a_node_stops_pulling_a_room_that_went_offline(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    """As when the origin died and a sweep took its room offline: the pull's viewers leave."""
    origin = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    other = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    room = (await create_room(origin, token))["id"]
    pc, location = await go_live(origin, token, room)
    viewer, _ = await watch(other, room)
    await viewer.wait_frames("video", 3, timeout_s=15)

    await other.app[ROOMS].go_offline(room, location.rsplit("/", 1)[1])
    await wait_for(lambda: not other.app[LIVE].hub.is_live(room), 10, "the pull to end")
    await wait_for(lambda: viewer.pc.connectionState == "closed", 10, "the viewer to be closed")
    await viewer.close()
    await pc.close()
