"""A node SIGKILLed in the middle of an auction: the other node closes it on time by the
store's clock, with the same result — the highest accepted bid wins, one order."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from livecommerce.store import client as store_client
from livecommerce.store.decoding import decode_entries
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from tests.integration.channel_client import ChannelClient
from tests.integration.deployment import api, start_node, token, write_config
from tests.integration.nodes import Node

pytestmark = pytest.mark.slow
BIDDERS_PER_NODE = 10


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


@pytest.mark.timeout(180)
async def test_the_auction_ends_the_same_when_a_node_is_killed(
    tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str, nodes: list[Node]
) -> None:
    config = write_config(tmp_path / "node.toml", valkey.url, key_prefix)
    node_a = start_node(nodes, tmp_path / "a", config)
    node_b = start_node(nodes, tmp_path / "b", config)
    anchor = token("anchor", "alice")
    async with aiohttp.ClientSession() as http:
        status, room = await api(http, node_a, "POST", "/api/rooms", anchor, {"title": "t"})
        assert status == 201
        item = {"sku": "S", "title": "Scarf", "price_cents": 5000, "currency": "EUR"}
        path = f"/api/rooms/{room['id']}"
        status, made = await api(http, node_a, "POST", f"{path}/products", anchor, item)
        terms = {
            "product_id": made["id"],
            "start_price_cents": 100,
            "duration_s": 6,
            "sudden_death": True,
        }
        status, lot = await api(http, node_a, "POST", f"{path}/auctions", anchor, terms)
        assert status == 201

        async def join(node: Node, user: str) -> ChannelClient:
            client = await ChannelClient.connect(http, node.url, room["id"], token("viewer", user))
            await client.wait_for("welcome", timeout_s=20)
            return client

        on_a = [await join(node_a, f"a{n}") for n in range(BIDDERS_PER_NODE)]
        on_b = [await join(node_b, f"b{n}") for n in range(BIDDERS_PER_NODE)]
        accepted: dict[str, int] = {}

        async def bid(client: ChannelClient, user: str, amount: int) -> None:
            mark = len(client.frames)
            frame = {"type": "bid", "auction": lot["id"], "amount_cents": amount}
            await client.send({**frame, "key": f"{user}-{amount}"})
            answer = await client.wait_for("bid_result", after=mark, timeout_s=20)
            if answer["ok"]:
                accepted[user] = amount

        # Bids through both nodes, node A's the highest so far.
        for n in range(BIDDERS_PER_NODE):
            await bid(on_b[n], f"b{n}", 1000 + 5000 * n)
            await bid(on_a[n], f"a{n}", 3500 + 5000 * n)
        node_a.process.kill()
        node_a.process.wait()
        # Node B's bidders go on: one of them outbids everyone before the end.
        top = 1000 + 5000 * (BIDDERS_PER_NODE + 1)
        await bid(on_b[0], "b0", top)
        assert accepted["b0"] == top
        assert time.time() * 1000 < lot["ends_at"], "the test ran past the auction's end"

        ended = await on_b[1].wait_for("auction_ended", timeout_s=30)
        assert (ended["winner"], ended["amount_cents"]) == ("b0", top)
        assert ended["order"]
        status, state = await api(http, node_b, "GET", f"{path}/auctions/{lot['id']}")
        assert (state["status"], state["winner"], state["order"]) == ("ended", "b0", ended["order"])
        for client in on_b:
            await client.close()

    store = store_client.connect(valkey.url, 2.0, 5.0, 0)
    try:
        raw = await store.xrange(Keys(key_prefix).outbox(room["id"]))
    finally:
        await store.aclose()
    created = [
        json.loads(fields["data"])
        for _, fields in decode_entries(raw)
        if fields["type"] == "order.created"
    ]
    assert [(c["user"], c["amount_cents"], c["source"]) for c in created] == [
        ("b0", top, "auction")
    ]
