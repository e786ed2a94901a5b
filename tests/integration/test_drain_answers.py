"""A node draining (SIGTERM) answers the frames its channel sessions already read before
it closes them with 4503: buys waiting in the batcher (the store is slow) each get their
``buy_result`` on the socket they were sent on, then the close; a session with nothing
in flight is closed at once and reads no more frames."""

from __future__ import annotations

import asyncio

import pytest

from livecommerce.app import DRAIN_CLOSE_REASON
from livecommerce.errors import ErrorCode
from livecommerce.store.keys import Keys
from livecommerce.web.state import HUB, SETTINGS, STORE
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import room_with_sale
from tests.integration.tcp_proxy import TcpProxy
from tests.integration.test_store_partition import proxied  # noqa: F401 - a fixture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

BUYERS = 16
# Each byte to and from the store is held this long: a buy's round trip takes twice it
# (under the command timeout), so the buys are still waiting on the store at the drain.
STORE_LATENCY_S = 0.25
DRAIN_TIMEOUT_S = 30.0


async def test_buys_in_flight_at_a_drain_are_answered_before_the_4503_close(
    proxied: tuple[Cluster, TcpProxy],  # noqa: F811
) -> None:
    cluster, proxy = proxied
    room, sale = await room_with_sale(cluster, quantity=100, per_user_limit=5)
    buyers = [await cluster.join(room, f"buyer{n}", wire="json") for n in range(BUYERS)]
    idle = await cluster.join(room, "idle", wire="json")
    drained = ErrorCode.shutting_down.spec.close_code

    proxy.latency_s = STORE_LATENCY_S
    for n, buyer in enumerate(buyers):
        await buyer.send({"type": "buy", "sale": sale["id"], "qty": 1, "key": f"k{n}"})
    await asyncio.sleep(STORE_LATENCY_S / 3)  # read by the node, waiting on the store
    drain = asyncio.ensure_future(
        cluster.apps[0][HUB].drain_sessions(drained, DRAIN_CLOSE_REASON, DRAIN_TIMEOUT_S)
    )
    await asyncio.wait_for(idle.closed.wait(), STORE_LATENCY_S)  # nothing in flight: at once
    assert idle.close_code == drained
    await asyncio.wait_for(drain, DRAIN_TIMEOUT_S + 5)

    orders = set()
    for n, buyer in enumerate(buyers):
        await asyncio.wait_for(buyer.closed.wait(), 10)
        assert buyer.close_code == drained, (n, buyer.close_code)
        answers = [f for f in buyer.frames if f.get("type") in ("buy_result", "error")]
        assert len(answers) == 1, (n, buyer.frames)
        assert answers[0]["type"] == "buy_result", answers
        assert answers[0]["key"] == f"k{n}", answers
        assert answers[0]["ok"] is True, answers
        orders.add(str(answers[0]["order"]))
    assert len(orders) == BUYERS
    proxy.latency_s = 0.0
    app = cluster.apps[0]
    held = await app[STORE].hgetall(Keys(app[SETTINGS].store.key_prefix).sale(room, sale["id"]))
    assert int(held[b"stock"]) == 100 - BUYERS
    for client in [*buyers, idle]:
        await client.close()


async def test_a_session_draining_reads_no_more_frames(
    proxied: tuple[Cluster, TcpProxy],  # noqa: F811
) -> None:
    """A buy sent after the drain began gets no answer on the old socket: the client sends
    it again (same key) on its new connection."""
    cluster, proxy = proxied
    room, sale = await room_with_sale(cluster, quantity=100, per_user_limit=5)
    buyer: ChannelClient = await cluster.join(room, "late", wire="json")
    drained = ErrorCode.shutting_down.spec.close_code

    proxy.latency_s = STORE_LATENCY_S
    await buyer.send({"type": "buy", "sale": sale["id"], "qty": 1, "key": "first"})
    await asyncio.sleep(STORE_LATENCY_S / 3)
    drain = asyncio.ensure_future(
        cluster.apps[0][HUB].drain_sessions(drained, DRAIN_CLOSE_REASON, DRAIN_TIMEOUT_S)
    )
    await asyncio.sleep(0)
    await buyer.send({"type": "buy", "sale": sale["id"], "qty": 1, "key": "second"})
    await asyncio.wait_for(drain, DRAIN_TIMEOUT_S + 5)
    await asyncio.wait_for(buyer.closed.wait(), 10)

    keys = [f.get("key") for f in buyer.frames if f.get("type") == "buy_result"]
    assert keys == ["first"], buyer.frames
    assert buyer.close_code == drained
    proxy.latency_s = 0.0
    await buyer.close()
