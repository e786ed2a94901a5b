"""Discovery over real HTTP and real channels: live rooms ranked by engagement per viewer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import ROOMS, SETTINGS, STORE
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import room_with_sale

Rooms = list[dict[str, Any]]
WAIT_S = 15.0
# A short window for the tests that watch activity leave it: 4 s in 16 slots of 250 ms.
SHORT_WINDOW = {"window_s": 4, "buckets": 16}
SLOT_MS = 250


@pytest.fixture
async def short_window(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"discovery": SHORT_WINDOW}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def go_live(cluster: Cluster, room: str) -> None:
    """Mark the room live as a WHIP publication would (no media needed for discovery)."""
    await cluster.apps[0][ROOMS].go_live(room, f"s-{room}", "http://origin.invalid", 600_000)


async def listing(cluster: Cluster, query: str = "status=live") -> Rooms:
    status, body = await cluster.api("GET", f"/api/rooms?{query}")
    assert status == 200, body
    rooms: Rooms = body["rooms"]
    return rooms


async def listing_once(
    cluster: Cluster, condition: Callable[[Rooms], bool], what: str, query: str = "status=live"
) -> Rooms:
    """The listing, polled until ``condition`` holds (viewer counts and likes arrive in batches)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        rooms = await listing(cluster, query)
        if condition(rooms):
            return rooms
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last listing: {rooms}")
        await asyncio.sleep(0.05)


def by_id(rooms: Rooms) -> dict[str, dict[str, Any]]:
    return {room["id"]: room for room in rooms}


async def chat(client: ChannelClient, user: str, texts: list[str]) -> None:
    """Send messages and wait until the channel echoes each back."""
    for text in texts:
        await client.send({"type": "chat", "text": text})
        await client.wait_for(
            lambda f, t=text: f.get("type") == "chat" and f["user"] == user and f["text"] == t
        )


async def buy(client: ChannelClient, sale: str, qty: int, key: str) -> dict[str, Any]:
    await client.send({"type": "buy", "sale": sale, "qty": qty, "key": key})
    return await client.wait_for(lambda f: f.get("type") == "buy_result" and f["key"] == key)


async def test_small_lively_rooms_rank_above_large_passive_ones(cluster: Cluster) -> None:
    lively, offer = await room_with_sale(cluster, per_user_limit=2)
    passive = await cluster.room(anchor="bob", title="Big and quiet")
    liked = await cluster.room(anchor="carol", title="Likes only")
    for room in (lively, passive, liked):
        await go_live(cluster, room)
    scheduled = await cluster.room(anchor="dave", title="Not yet")
    ended = await cluster.room(anchor="erin", title="Over")
    await go_live(cluster, ended)
    status, _ = await cluster.api("POST", f"/api/rooms/{ended}/end", cluster.token("admin", "a"))
    assert status == 200

    ann = await cluster.join(lively, "ann")
    await chat(ann, "ann", ["hello!", "how thick is the silk?", "taking one"])
    assert (await buy(ann, offer["id"], 1, "k1"))["ok"] is True
    refused = await buy(ann, offer["id"], 2, "k2")  # over the limit: no order, not counted
    assert refused["reason"] == "limit_reached"
    crowd = [await cluster.join(passive, node=n % 2) for n in range(20)]
    fans = [await cluster.join(liked, f"fan{n}", node=n % 2) for n in range(5)]
    await fans[0].send({"type": "like", "count": 20})
    await fans[3].send({"type": "like", "count": 10})

    ranked = await listing_once(
        cluster,
        lambda rooms: (
            [(r["discovery"]["viewers"], r["discovery"]["likes"]) for r in rooms]
            == [(1, 0), (5, 30), (20, 0)]
        ),
        "viewer counts and likes to reach the store",
    )

    assert [r["id"] for r in ranked] == [lively, liked, passive]
    assert [r["discovery"] for r in ranked] == [
        {"score": 1.3333, "chat": 3, "likes": 0, "orders": 1, "viewers": 1, "window_s": 300},
        {"score": 0.3, "chat": 0, "likes": 30, "orders": 0, "viewers": 5, "window_s": 300},
        {"score": 0.0, "chat": 0, "likes": 0, "orders": 0, "viewers": 20, "window_s": 300},
    ]
    assert all(r["status"] == "live" and r["viewers"] == r["discovery"]["viewers"] for r in ranked)

    everything = await listing(cluster, "")
    assert [r["id"] for r in everything] == [lively, liked, passive, ended, scheduled]
    assert [("discovery" in r) for r in everything] == [True, True, True, False, False]
    assert [r["id"] for r in await listing(cluster, "status=live&limit=2")] == [lively, liked]
    assert [r["id"] for r in await listing(cluster, "limit=4")] == [lively, liked, passive, ended]
    assert [r["id"] for r in await listing(cluster, "status=ended")] == [ended]

    status, one = await cluster.api("GET", f"/api/rooms/{lively}", node=1)
    assert status == 200
    assert one["discovery"] == ranked[0]["discovery"]
    status, over = await cluster.api("GET", f"/api/rooms/{ended}")
    assert status == 200
    assert "discovery" not in over
    for client in [ann, *crowd, *fans]:
        await client.close()


async def test_a_room_that_goes_offline_leaves_the_ranking(cluster: Cluster) -> None:
    first = await cluster.room(anchor="alice", title="first")
    second = await cluster.room(anchor="bob", title="second")
    await go_live(cluster, first)
    await go_live(cluster, second)
    assert {r["id"] for r in await listing(cluster)} == {first, second}

    assert await cluster.apps[1][ROOMS].go_offline(first, f"s-{first}")

    assert [r["id"] for r in await listing(cluster)] == [second]
    everything = await listing(cluster, "")
    assert [r["id"] for r in everything] == [second, first]
    assert everything[1]["status"] == "scheduled"
    assert "discovery" not in everything[1]


async def test_activity_older_than_the_window_stops_counting(short_window: Cluster) -> None:
    cluster = short_window
    room, offer = await room_with_sale(cluster)
    await go_live(cluster, room)
    ann = await cluster.join(room, "ann")
    anchor = await cluster.join(room, "alice", role="anchor")
    await chat(anchor, "alice", ["welcome everyone", "this scarf is silk"])  # not counted
    await anchor.send({"type": "like", "count": 9})  # the anchor's likes are not counted
    await chat(ann, "ann", ["hi", "lovely"])
    await ann.send({"type": "like", "count": 7})
    assert (await buy(ann, offer["id"], 1, "k1"))["ok"] is True

    counted = await listing_once(
        cluster,
        lambda rooms: rooms[0]["discovery"]["likes"] == 7 and rooms[0]["viewers"] == 1,
        "likes and viewers",
    )
    parts = counted[0]["discovery"]
    assert (parts["chat"], parts["likes"], parts["orders"]) == (2, 7, 1)
    assert parts["window_s"] == 4
    assert parts["score"] == round((2 + 0.1 * 7 + 5) / (1 + 5), 4)  # the anchor is no viewer

    faded = await listing_once(
        cluster,
        lambda rooms: rooms[0]["discovery"]["score"] == 0.0,
        "the activity to leave the window",
    )
    assert faded[0]["id"] == room
    assert faded[0]["discovery"] == {
        "score": 0.0,
        "chat": 0,
        "likes": 0,
        "orders": 0,
        "viewers": 1,
        "window_s": 4,
    }
    await ann.close()
    await anchor.close()


async def test_only_slots_in_the_window_count_and_stale_ones_are_deleted(
    short_window: Cluster,
) -> None:
    cluster = short_window
    app = cluster.apps[0]
    store, keys = app[STORE], Keys(app[SETTINGS].store.key_prefix)
    room = await cluster.room()
    await go_live(cluster, room)
    engagement = keys.room_engagement(room)
    seconds, micros = await store.time()
    now_slot = (seconds * 1000 + micros // 1000) // SLOT_MS
    # Counts left over from long ago, a field no script writes, and likes of this slot.
    stale = {"chat:1": 50, "orders:2": 3, "junk": 1, f"chat:{now_slot - 16}": 8}
    await store.hset(engagement, mapping={**stale, f"likes:{now_slot}": 4})

    (seeded,) = await listing(cluster)
    assert (seeded["discovery"]["chat"], seeded["discovery"]["likes"]) == (0, 4)
    assert seeded["discovery"]["orders"] == 0

    ann = await cluster.join(room, "ann")
    await chat(ann, "ann", ["first chat of this slot"])  # the first count of a slot prunes

    fields = {field.decode() for field in await store.hkeys(engagement)}
    assert fields.isdisjoint(stale)
    assert len(fields) in (1, 2)  # this chat's slot, and the seeded likes unless they aged out
    assert 0 < await store.pttl(engagement) <= 17 * SLOT_MS
    (counted,) = await listing(cluster)
    assert counted["discovery"]["chat"] == 1
    assert counted["discovery"]["orders"] == 0
    await ann.close()


async def test_counts_are_read_again_after_the_store_forgets_its_scripts(cluster: Cluster) -> None:
    room = await cluster.room()
    await go_live(cluster, room)
    ann = await cluster.join(room, "ann")
    await chat(ann, "ann", ["hello"])

    await cluster.apps[0][STORE].script_flush()

    (live,) = await listing(cluster)
    assert live["discovery"]["chat"] == 1
    await ann.close()


@pytest.mark.parametrize(
    "query",
    ["status=LIVE", "status=live&limit=0", "status=live&limit=abc", "status=live&limit=201"],
)
async def test_garbage_parameters_of_the_ranked_listing_are_400(
    cluster: Cluster, query: str
) -> None:
    status, body = await cluster.api("GET", f"/api/rooms?{query}")
    assert status == 400
    assert body["error"]["code"] == "invalid_parameter"
