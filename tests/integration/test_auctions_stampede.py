"""2,000 bids in the last second of an auction across two nodes: one winner, the highest
accepted bid, one order."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import aiohttp
import pytest

from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, order_events
from tests.integration.test_stampede import connect_buyer, enough_open_files

__all__ = ["enough_open_files"]

BIDDERS = 2000
# Bids 50.00 apart: above any step of the default table, so a bid above every bid
# accepted before it is always accepted, and the highest bid sent in time wins.
SPACING = 5000


@pytest.mark.timeout(300)
async def test_one_winner_with_the_highest_bid_in_the_last_second(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    gate = asyncio.Semaphore(100)
    amounts = [100 + SPACING * n for n in random.sample(range(1, BIDDERS + 1), BIDDERS)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        bidders = await asyncio.gather(
            *(connect_buyer(session, cluster, room, n, gate) for n in range(BIDDERS))
        )
        lot = await auction(cluster, room, item["id"], duration_s=4, sudden_death=True)
        # An early leader, so the auction has a bid even when this machine is too busy for
        # any bid of the last second to reach the store before the end.
        early = {"type": "bid", "auction": lot["id"], "amount_cents": 100, "key": "early"}
        await bidders[0].send(early)
        assert (await bidders[0].wait_for("bid_result", timeout_s=60))["ok"] is True
        await asyncio.sleep(max(0.0, (lot["ends_at"] - 1000) / 1000 - time.time()))

        async def press(n: int, client: ChannelClient) -> None:
            await asyncio.sleep(random.random())  # spread over the last second
            frame = {"type": "bid", "auction": lot["id"], "amount_cents": amounts[n]}
            await client.send({**frame, "key": f"bid-{n}"})

        await asyncio.gather(*(press(n, client) for n, client in enumerate(bidders)))
        answers = await asyncio.gather(
            *(
                client.wait_for(
                    lambda f: f.get("type") == "bid_result" and f["key"] != "early",
                    timeout_s=120,
                )
                for client in bidders
            )
        )
        ended = await bidders[0].wait_for("auction_ended", timeout_s=60)
        for client in bidders:
            await client.sync(timeout_s=60)
        counts = [len(client.of_type("bid_result")) for client in bidders]
        for client in bidders:
            await client.close()

    assert counts == [2] + [1] * (BIDDERS - 1)
    accepted = {f"buyer{n}": amounts[n] for n, a in enumerate(answers) if a["ok"]}
    accepted.setdefault("buyer0", 100)
    reasons = Counter(a["reason"] for a in answers if not a["ok"])
    assert set(reasons) <= {"bid_too_low", "auction_ended"}
    winner = max(accepted, key=lambda user: accepted[user])
    assert (ended["winner"], ended["amount_cents"]) == (winner, accepted[winner])
    orders = [
        data
        for kind, data in await order_events(cluster, room)
        if kind == "order.created" and data.get("auction") == lot["id"]
    ]
    assert len(orders) == 1
    assert (orders[0]["user"], orders[0]["amount_cents"], orders[0]["id"]) == (
        winner,
        accepted[winner],
        ended["order"],
    )
