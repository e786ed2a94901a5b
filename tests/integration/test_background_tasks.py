"""Every periodic loop of a node ends when its owner stops it, even when a round swallows
a cancel (redis-py#2551: a cancel that lands in a command's read timeout is lost and the
loop carries on), so shutdown never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import STORE_CONTEXT
from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.likes import LikeCounter
from livecommerce.commerce.worker import CommerceWorker
from livecommerce.live.service import LiveService
from livecommerce.nodes.registry import NodeRegistry
from livecommerce.store.keys import Keys
from livecommerce.web.state import (
    BUS,
    ORDERS,
    PRESENCE,
    ROOMS,
    SALES,
    SETTINGS,
    STORE,
)

TINY_S = 0.01
HANG_S = 15.0


class SwallowsOneCancel:
    """A round that swallows the first cancel and carries on; later rounds return at once."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.ended = asyncio.Event()
        self.swallowed = 0
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.calls > 1:
            return
        self.entered.set()
        try:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.swallowed += 1
            await asyncio.sleep(3600)
        finally:
            self.ended.set()


@dataclass(frozen=True)
class Loop:
    """A service with a periodic loop: how to build it, which method is the round, how to
    start and stop it."""

    build: Callable[[TestClient], object]
    job: str
    start: str = "start"
    stop: str = "stop"


def _streams(client: TestClient) -> LiveService:
    settings = client.app[SETTINGS].replace("media", live_heartbeat_s=TINY_S)
    return LiveService(client.app[ROOMS], client.app[BUS], settings.media)


def _nodes(client: TestClient) -> NodeRegistry:
    prefix = client.app[SETTINGS].store.key_prefix
    return NodeRegistry(client.app[STORE], Keys(prefix), "0b5e55ed0000", "http://x:1", TINY_S)


def _commerce(client: TestClient) -> CommerceWorker:
    return CommerceWorker(client.app[ORDERS], client.app[SALES], client.app[BUS], TINY_S, 60)


def _likes(client: TestClient) -> LikeCounter:
    settings = client.app[SETTINGS].replace("channel", likes_interval_s=TINY_S)
    return LikeCounter(
        store=client.app[STORE_CONTEXT], settings=settings.channel, discovery=settings.discovery
    )


def _hub(client: TestClient) -> ChannelHub:
    return ChannelHub(client.app[BUS], client.app[PRESENCE], TINY_S)


LOOPS = {
    "stream heartbeat": Loop(_streams, "beat_once", stop="close"),
    "node heartbeat": Loop(_nodes, "beat_once"),
    "commerce sweep": Loop(_commerce, "sweep"),
    "like flush": Loop(_likes, "flush"),
    "viewer counts": Loop(_hub, "report_viewers"),
}


@pytest.mark.parametrize("loop", LOOPS.values(), ids=LOOPS.keys())
async def test_stopping_ends_a_loop_whose_round_swallows_one_cancel(
    client: TestClient, loop: Loop
) -> None:
    service = loop.build(client)
    round_ = SwallowsOneCancel()
    setattr(service, loop.job, round_)
    start: Callable[[], None] = getattr(service, loop.start)
    stop: Callable[[], Awaitable[None]] = getattr(service, loop.stop)
    start()
    async with asyncio.timeout(HANG_S):
        await round_.entered.wait()
    # In a task of its own: a stop that swallows cancellation must not hide a hang.
    stopping = asyncio.ensure_future(stop())
    await asyncio.wait({stopping}, timeout=HANG_S)
    assert stopping.done(), "stop() hangs"
    assert round_.ended.is_set(), "the round goes on after stop()"
    assert round_.swallowed == 1
