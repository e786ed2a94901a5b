"""Who bought what is for the room's staff only: ``room_order`` never reaches a viewer
(signed in or not, on either node, the buyer included), nor another room's anchor, and a
flood of viewer chat that turns sampling on never crowds it out of the anchor's socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.channel_client import pass_marker
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product, sale

FLOODERS = 6
BUYS = 8


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(
        aiohttp_server,
        valkey,
        tmp_path,
        key_prefix,
        token,
        sampling_chat_rate=5.0,
        viewer_chat_rate=1,
        chat_burst=20,
        chat_per_s=20.0,
    ):
        yield value


async def test_viewers_and_other_anchors_never_see_the_orders_feed(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"], quantity=BUYS, per_user_limit=1)
    anchor = await cluster.join(room, "alice", role="anchor", node=1)
    onlookers = [
        await cluster.join(room, None),
        await cluster.join(room, "eve", node=1, wire="json"),
        await cluster.join(room, "zed", role="anchor"),  # an anchor, not this room's
    ]
    flooders = [await cluster.join(room, f"f{n}", node=n % 2) for n in range(FLOODERS)]
    buyers = [await cluster.join(room, f"b{n}", node=n % 2) for n in range(BUYS)]

    async def flood() -> None:
        for line in range(5):
            for flooder in flooders:
                await flooder.send({"type": "chat", "text": f"spam {line}"})

    async def buy(n: int) -> None:
        await buyers[n].send({"type": "buy", "sale": flash["id"], "key": "k"})
        answer = await buyers[n].wait_for("buy_result", timeout_s=20)
        assert answer["ok"], answer

    await asyncio.gather(flood(), *(buy(n) for n in range(BUYS)))
    reserved = await anchor.wait_count("room_order", BUYS, timeout_s=20)
    assert sorted(str(f["user"]) for f in reserved) == sorted(f"b{n}" for n in range(BUYS))
    await pass_marker(anchor, *onlookers, *buyers, text="after the buys")
    for client in (*onlookers, *buyers, *flooders):
        assert not client.of_type("room_order"), client.frames
