"""2,000 claimers on two nodes for 500 vouchers: exactly 500 claims, one answer per press."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import pytest

from livecommerce.web.formats_app import VOUCHERS
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.formats_helpers import voucher
from tests.integration.test_stampede import connect_buyer, enough_open_files

__all__ = ["enough_open_files"]

CLAIMERS = 2000
UNITS = 500


@pytest.mark.timeout(300)
async def test_exactly_the_quantity_is_claimed_under_a_stampede(cluster: Cluster) -> None:
    room = await cluster.room()
    offer = await voucher(cluster, room, quantity=UNITS, per_user_limit=1)
    gate = asyncio.Semaphore(100)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        claimers = await asyncio.gather(
            *(connect_buyer(session, cluster, room, n, gate) for n in range(CLAIMERS))
        )
        # Everyone presses claim at once, each twice with the same key (a retry).
        await asyncio.gather(
            *(
                client.send({"type": "claim", "voucher": offer["id"], "key": f"press-{n}"})
                for n, client in enumerate(claimers)
                for _ in range(2)
            )
        )

        async def two_answers(client: ChannelClient) -> list[dict[str, object]]:
            await client.wait_count("claim_result", 2, timeout_s=120)
            await client.sync(timeout_s=60)
            return client.of_type("claim_result")

        answers = await asyncio.gather(*(two_answers(client) for client in claimers))
        for client in claimers:
            await client.close()

    assert all(len(pair) == 2 for pair in answers)
    assert all(pair[0] == pair[1] for pair in answers), "a retried key got another answer"
    firsts = [pair[0] for pair in answers]
    won = [a for a in firsts if a["ok"] is True]
    assert len(won) == UNITS
    assert len({a["claim"] for a in won}) == UNITS
    assert Counter(a.get("reason") for a in firsts if not a["ok"]) == {"sold_out": CLAIMERS - UNITS}
    state = await cluster.apps[1][VOUCHERS].get(room, offer["id"])
    assert (state.left, state.claimed) == (0, UNITS)
