"""One bad ``buy`` frame must not cost any other buyer an answer (issue 11, item 1).

A JSON ``buy`` whose ``key`` is a lone surrogate used to pass validation and fail the
store pipeline of every buy batched with it, closing each honest buyer's socket with
internal_error. The edge now refuses such a frame with an ``error`` frame to its sender.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import room_with_sale

HONEST = 30
POISONED = 3


cluster = cluster_with()


async def test_poisoned_buy_frames_do_not_disconnect_honest_buyers(cluster: Cluster) -> None:
    room, flash = await room_with_sale(cluster, quantity=100, per_user_limit=1)
    async with aiohttp.ClientSession() as session:

        async def connect(user: str) -> ChannelClient:
            client = await ChannelClient.connect(
                session, cluster.urls[0], room, cluster.token("viewer", user), "json"
            )
            await client.wait_for("welcome")
            return client

        honest = await asyncio.gather(*(connect(f"buyer{n}") for n in range(HONEST)))
        poisoned = await asyncio.gather(*(connect(f"mallory{n}") for n in range(POISONED)))
        # The lone surrogate goes out as the JSON escape \ud800, as an attacker would send it.
        bad = json.dumps({"type": "buy", "sale": flash["id"], "qty": 1, "key": "\ud800"})
        sends = [
            client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": f"k{n}"})
            for n, client in enumerate(honest)
        ]
        # Interleave the poisoned frames with the honest ones so they share store batches.
        for index, client in enumerate(poisoned):
            sends.insert(index * 10 + 5, client.send_raw(bad))
        await asyncio.gather(*sends)

        async def answer(client: ChannelClient) -> bool:
            try:
                await client.wait_for("buy_result", timeout_s=5)
            except (AssertionError, TimeoutError):
                return False
            return True

        answered = await asyncio.gather(*(answer(client) for client in honest))
        print(f"honest buyers answered: {sum(answered)} of {HONEST}")
        assert sum(answered) == HONEST
        assert all(client.frames[-1]["ok"] is True for client in honest)
        for client in poisoned:
            error = await client.wait_for("error")
            assert error["code"] == "invalid_field"
        # Every socket is still open and answering.
        for client in [*honest, *poisoned]:
            mark = len(client.frames)
            await client.send({"type": "ping"})
            await client.wait_for("pong", after=mark)
            assert not client.closed.is_set()
        for client in [*honest, *poisoned]:
            await client.close()


async def test_an_error_answering_a_buy_names_its_key(cluster: Cluster) -> None:
    room, flash = await room_with_sale(cluster, quantity=10, per_user_limit=1)
    async with aiohttp.ClientSession() as session:
        # Anonymous: the buy is refused with an error frame, not a buy_result.
        client = await ChannelClient.connect(session, cluster.urls[0], room, None, "json")
        await client.wait_for("welcome")
        await client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": "k-41"})
        error = await client.wait_for("error")
        assert error["code"] == "sign_in_required"
        assert error["key"] == "k-41"
        await client.close()
