"""Viewer counts at scale: exact up to ``channel.exact_viewers_up_to``, rounded above it
and broadcast only when the rounded count moves; one store call per room per report
whatever the audience."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from livecommerce.channel.hub import ChannelHub
from livecommerce.channel.presence import Presence, ViewerCount
from livecommerce.config import ChannelSettings
from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.test_hub_batching import LocalBus, RecordingConnection, frames_of, join
from tests.store_context import store_context


class CountingPresence(Presence):
    """The real presence on the real store, counting the reports it makes."""

    reports = 0

    async def report(self, room_id: str, local_count: int) -> ViewerCount:
        self.reports += 1
        return await super().report(room_id, local_count)


@pytest.fixture
async def counted(valkey: EmbeddedValkey, key_prefix: str) -> AsyncIterator[Any]:
    client = aioredis.from_url(valkey.url)
    presence = CountingPresence(
        store=store_context(client, key_prefix), node_id="node-t", ttl_s=5.0
    )
    settings = ChannelSettings(write_delay_ms=0.0, exact_viewers_up_to=100)
    yield ChannelHub(LocalBus(), presence, 60.0, settings=settings), presence
    await client.aclose()


def counts(connection: RecordingConnection) -> list[int]:
    return [f["count"] for w in connection.writes for f in frames_of(w) if f["type"] == "viewers"]


async def crowd(hub: ChannelHub, prefix: str, size: int) -> list[RecordingConnection]:
    return [await join(hub, f"{prefix}{n}") for n in range(size)]


async def report(hub: ChannelHub) -> None:
    await hub.report_viewers()
    await asyncio.sleep(0)  # the end of the write window


async def test_small_counts_are_exact(counted: Any) -> None:
    hub, _ = counted
    first = await join(hub, "u0")
    await crowd(hub, "a", 98)
    await report(hub)
    assert counts(first) == [99]
    await join(hub, "late")
    await report(hub)
    assert counts(first) == [99, 100]
    assert hub.viewers("r1") == 100


async def test_big_counts_are_rounded_and_sent_only_when_the_rounded_count_moves(
    counted: Any,
) -> None:
    hub, presence = counted
    first = await join(hub, "u0")
    await crowd(hub, "a", 150)  # 151 viewers
    await report(hub)
    assert counts(first) == [150]
    await crowd(hub, "b", 3)  # 154: still shown as 150
    await report(hub)
    assert counts(first) == [150]
    await crowd(hub, "c", 2)  # 156: shown as 160
    await report(hub)
    assert counts(first) == [150, 160]
    assert hub.viewers("r1") == 160
    assert hub.local_viewers("r1") == 156  # what the store is told stays exact
    # One store call per room per report, whatever the audience.
    assert presence.reports == 3
