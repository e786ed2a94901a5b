"""Likes cannot be farmed (issue 11, item 6): one user's likes in a room pass one budget
shared by all of its sockets on every node, and count for discovery only up to a cap per
user per window, so a room's score cannot be inflated by one user."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import DISCOVERY, LIKES, ROOMS
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, start_cluster

BURST = 20
PER_S = 5.0
DISCOVERY_CAP = 10
FLOOD_S = 2.0


def budget(burst: int, per_s: float) -> dict[str, Any]:
    return {
        "sections": {"discovery": {"max_likes_per_user": DISCOVERY_CAP}},
        "user_likes_burst": burst,
        "user_likes_per_s": per_s,
    }


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, **budget(BURST, PER_S)
    ):
        yield value


async def discovery_of(cluster: Cluster, room: str) -> dict[str, Any]:
    status, body = await cluster.api("GET", "/api/rooms?status=live")
    assert status == 200, body
    return next(r["discovery"] for r in body["rooms"] if r["id"] == room)


async def test_one_user_on_three_sockets_stays_within_its_like_budget(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    await cluster.apps[0][ROOMS].go_live(room, "s-1", "http://origin.invalid", 600_000)
    farmer = cluster.token("viewer", "farmer")
    sockets = [
        await ChannelClient.connect(cluster.http, cluster.urls[n % 2], room, farmer, "msgpack")
        for n in range(3)
    ]
    for client in sockets:
        await client.wait_for("welcome")

    async def flood(client: ChannelClient, until: float) -> int:
        sent = 0
        while time.monotonic() < until:
            with contextlib.suppress(ConnectionError):
                await client.send({"type": "like", "count": 50})
                sent += 50
            await asyncio.sleep(0.005)  # ten times the frame rate a socket is allowed
        return sent

    started = time.monotonic()
    sent = sum(await asyncio.gather(*(flood(c, started + FLOOD_S) for c in sockets)))
    await asyncio.sleep(0.5)  # the last batches reach the store (every 50 ms here)
    elapsed = time.monotonic() - started
    status, state = await cluster.api(
        "GET", f"/api/rooms/{room}/stats", cluster.token("admin", "a")
    )
    assert status == 200, state
    total = state["likes"]
    print(f"likes sent {sent}, counted {total} (bound {BURST + PER_S * elapsed:.1f})")
    assert sent > 1000
    assert BURST <= total <= BURST + PER_S * elapsed
    assert not any(c.closed.is_set() for c in sockets)

    parts = await discovery_of(cluster, room)
    assert parts["likes"] == DISCOVERY_CAP
    # One user holds sockets on both nodes: one viewer per node, not three.
    assert parts["viewers"] == 2
    assert parts["score"] == round(0.1 * DISCOVERY_CAP / (2 + 5), 4)
    for client in sockets:
        await client.close()


async def test_budgets_are_per_user_and_staff_likes_never_count_for_discovery(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    # Refill so slow that the test's own duration cannot add a like.
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, **budget(BURST, 0.001)
    ):
        room = await cluster.room()
        app, other = cluster.apps

        async def after(user: str, count: int, engaging: bool = True) -> tuple[int, int]:
            app[LIKES].add(room, user, count, engaging)  # noqa: B023 - used within the loop
            await app[LIKES].flush()  # noqa: B023
            counted = (await other[DISCOVERY].engagement([room]))[0].likes  # noqa: B023
            return await app[LIKES].total(room), counted  # noqa: B023

        assert await after("u1", 50) == (BURST, DISCOVERY_CAP)
        assert await after("u1", 5) == (BURST, DISCOVERY_CAP)
        assert await after("u2", 3) == (BURST + 3, DISCOVERY_CAP + 3)
        assert await after("u2", 30) == (2 * BURST, 2 * DISCOVERY_CAP)
        # The anchor's likes use its own budget and never count for discovery.
        assert await after("alice", 100, engaging=False) == (3 * BURST, 2 * DISCOVERY_CAP)


async def test_a_second_window_counts_again_but_no_more_than_the_cap(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    sections = {"discovery": {"max_likes_per_user": 3, "window_s": 2, "buckets": 4}}
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        room = await cluster.room()
        likes = cluster.apps[0][LIKES]
        discovery = cluster.apps[0][DISCOVERY]
        likes.add(room, "u1", 10)
        await likes.flush()
        assert (await discovery.engagement([room]))[0].likes == 3
        await asyncio.sleep(2.1)  # the first window is over; its slots have left
        likes.add(room, "u1", 10)
        await likes.flush()
        assert (await discovery.engagement([room]))[0].likes == 3
