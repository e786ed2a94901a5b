"""The store slows down, then the link to it is cut for a few seconds (a TCP proxy between
the node and the store): buys answer within their deadline or get ``store_unavailable``,
none is answered twice or lost, a retry with the same key gets the first answer,
``/readyz`` flips, and viewers already watching keep their video."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livecommerce.app import create_app
from livecommerce.config import is_cluster_url
from livecommerce.store import client as store_client
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.conftest import TokenFactory, make_settings
from tests.integration.channel_client import ChannelClient, Frame
from tests.integration.cluster import FAST_CHANNEL, FAST_COMMERCE, Cluster, ServerFactory
from tests.integration.commerce_helpers import room_with_sale
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

COMMAND_TIMEOUT_S = 1.0
RETRIES = 1
# The longest a buy may take to answer while the store is slow or cut off: the command
# timeout per try, the tries, their backoff, the pool wait; doubled for a loaded machine.
BUY_DEADLINE_S = 2 * (COMMAND_TIMEOUT_S * (RETRIES + 1) + 1.0 + COMMAND_TIMEOUT_S) + 4.0
BUYERS = 12


@pytest.fixture
async def proxied(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[tuple[Cluster, TcpProxy]]:
    if is_cluster_url(valkey.url):
        pytest.skip("the proxy stands in front of one store server")
    proxy = await TcpProxy(valkey.url).start()
    settings = make_settings(
        proxy.url,
        tmp_path,
        key_prefix,
        store={
            "command_timeout_s": COMMAND_TIMEOUT_S,
            "connect_timeout_s": 0.5,
            "retries": RETRIES,
            "warm_connections": 4,
        },
        commerce=FAST_COMMERCE,
        channel=FAST_CHANNEL,
    )
    app = create_app(settings)
    server = await aiohttp_server(app)
    try:
        async with aiohttp.ClientSession() as http:
            yield Cluster([str(server.make_url("")).rstrip("/")], [app], http, token), proxy
    finally:
        proxy.heal()
        await proxy.stop()


async def buy(buyer: ChannelClient, sale: str, key: str) -> tuple[Frame, float]:
    """Send a buy; its answer (``buy_result`` or ``error``) and how long it took."""
    after = len(buyer.frames)
    began = time.monotonic()
    await buyer.send({"type": "buy", "sale": sale, "qty": 1, "key": key})
    answer = await buyer.wait_for(
        lambda f: (
            (f.get("type") == "buy_result" and f.get("key") == key) or f.get("type") == "error"
        ),
        timeout_s=BUY_DEADLINE_S + 10,
        after=after,
    )
    return answer, time.monotonic() - began


async def ready(cluster: Cluster) -> int:
    try:
        async with cluster.http.get(
            cluster.urls[0] + "/readyz", timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def until(check: Any, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_latency_then_a_cut_link_loses_no_buy_and_answers_none_twice(
    proxied: tuple[Cluster, TcpProxy],
) -> None:
    cluster, proxy = proxied
    room, sale = await room_with_sale(cluster, quantity=1000, per_user_limit=10)
    sale_id = str(sale["id"])
    publisher = await publisher_offer(synthetic_tracks(160, 120))
    assert publisher.localDescription is not None
    anchor = cluster.token("anchor", "alice")
    async with cluster.http.post(
        f"{cluster.urls[0]}/whip/{room}",
        data=publisher.localDescription.sdp.encode(),
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {anchor}"},
    ) as response:
        assert response.status == 201, await response.text()
        await accept(publisher, await response.text())
    viewer = Viewer()
    async with cluster.http.post(
        f"{cluster.urls[0]}/whep/{room}",
        data=(await viewer.offer()).encode(),
        headers={"Content-Type": "application/sdp"},
    ) as response:
        assert response.status == 201, await response.text()
        await accept(viewer.pc, await response.text())
    await viewer.wait_frames("video", 10, timeout_s=20)
    buyers = [await cluster.join(room, f"buyer{n}") for n in range(BUYERS)]
    first: dict[str, Frame] = {}  # key → the first final answer it got

    def final(key: str, answer: Frame) -> None:
        assert answer.get("type") == "buy_result", answer
        assert answer["ok"] is True, answer
        if key in first:
            assert answer == first[key], (key, first[key], answer)  # one answer per key
        else:
            first[key] = answer

    try:
        # 1. The store slows down: every buy still answers, and in time.
        proxy.latency_s = 0.2
        answers = await asyncio.gather(
            *(buy(b, sale_id, f"slow-{n}") for n, b in enumerate(buyers))
        )
        for n, (answer, took) in enumerate(answers):
            final(f"slow-{n}", answer)
            assert took < BUY_DEADLINE_S, took

        # 2. The link is cut while buys are on the way (some reached the store, their
        # answers did not come back): each gets an answer or store_unavailable in time.
        proxy.latency_s = 0.4
        # Half the buys reach the store before the cut (their answers are still on the
        # way back), half do not.
        half = BUYERS // 2
        pending = [
            asyncio.ensure_future(buy(b, sale_id, f"cut-{n}")) for n, b in enumerate(buyers[:half])
        ]
        await asyncio.sleep(0.3)
        pending += [
            asyncio.ensure_future(buy(b, sale_id, f"cut-{n}"))
            for n, b in enumerate(buyers[half:], start=half)
        ]
        await asyncio.sleep(0.3)
        frames_at_cut = viewer.frames["video"]
        await proxy.cut()
        unavailable = []
        for n, (answer, took) in enumerate(await asyncio.gather(*pending)):
            assert took < BUY_DEADLINE_S, (answer, took)
            if answer.get("type") == "error":
                assert answer["code"] == "store_unavailable", answer
                unavailable.append(n)
            else:
                final(f"cut-{n}", answer)
        assert unavailable, "the cut answered every buy: it came too late to test anything"

        async def not_ready() -> bool:
            return await ready(cluster) == 503

        await until(not_ready, "/readyz to answer 503 while the store is cut off")
        # The media plane does not need the store: the viewer keeps getting video.
        await viewer.wait_frames("video", frames_at_cut + 30, timeout_s=20)
        assert viewer.pc.connectionState == "connected"

        # 3. The link comes back: /readyz too, and each key gets its first answer.
        proxy.latency_s = 0.0
        proxy.heal()

        async def is_ready() -> bool:
            return await ready(cluster) == 200

        await until(is_ready, "/readyz to answer 200 once the store is back")
        keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
        store = cluster.apps[0][STORE]
        # Buys the store ran whose answer the cut lost: their retry must give that answer.
        ran = [
            n
            for n in unavailable
            if await store.hexists(
                keys.sale_idempotency(room, sale_id),
                keys.idempotency_field(f"buyer{n}", f"cut-{n}"),
            )
        ]
        print(f"partition: {len(unavailable)} of {BUYERS} buys cut off, {len(ran)} of them ran")
        for prefix in ("cut", "slow"):
            for n, buyer in enumerate(buyers):
                key = f"{prefix}-{n}"
                deadline = time.monotonic() + 30
                while True:
                    answer, _ = await buy(buyer, sale_id, key)
                    if answer.get("type") != "error":
                        break
                    assert answer["code"] == "store_unavailable", answer
                    assert time.monotonic() < deadline, answer
                    await asyncio.sleep(0.2)
                final(key, answer)

        # Nothing lost, nothing doubled: one order per key, and the stock counts them.
        orders = {str(answer["order"]) for answer in first.values()}
        assert len(orders) == len(first) == 2 * BUYERS
        store = store_client.connect(proxy.upstream, 2.0, 5.0, 2)
        try:
            held = await store.hgetall(keys.sale(room, sale_id))
            assert int(held[b"reserved"]) + int(held[b"sold"]) == len(orders)
            assert int(held[b"stock"]) == 1000 - len(orders)
            for order in orders:
                assert await store.exists(keys.order(room, order)) == 1, order
        finally:
            await store.aclose()
    finally:
        for buyer in buyers:
            await buyer.close()
        await viewer.close()
        await publisher.close()
