"""Watch time from presence, on two nodes: a viewer's time is summed across a reconnect
and counted once while it is connected to both nodes at once, within ±2 s of the time
its sockets were open; anonymous viewers are not in it; retention and the peak see them."""

from __future__ import annotations

import asyncio
import time

from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, cluster_with

INTERVAL_S = 0.2
TOLERANCE_S = 2.0


cluster = cluster_with({"analytics": {"watch_interval_s": INTERVAL_S}})


class Stopwatch:
    """The union of the spans a user's sockets were open, as the client saw them: the
    outer spans (from before connecting to after the close) and the inner ones (from the
    welcome to the close being asked for). The server's spans lie between the two."""

    def __init__(self) -> None:
        self.outer: list[tuple[float, float]] = []
        self.inner: list[tuple[float, float]] = []
        self.opened: dict[ChannelClient, tuple[float, float]] = {}

    async def open(self, cluster: Cluster, room: str, user: str, node: int) -> ChannelClient:
        started = time.monotonic()
        client = await cluster.join(room, user, node=node)
        self.opened[client] = (started, time.monotonic())
        return client

    async def close(self, client: ChannelClient) -> None:
        asked = time.monotonic()
        await client.close()
        started, welcomed = self.opened.pop(client)
        self.outer.append((started, time.monotonic()))
        self.inner.append((welcomed, asked))

    def bounds(self) -> tuple[float, float]:
        """(least, most) seconds the server may have seen."""
        return union(self.inner), union(self.outer)


def union(spans: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


async def watched_ms(cluster: Cluster, room: str, user: str) -> tuple[int, int]:
    """(whole seconds in the watch hash, ms in the span hash) of ``user``."""
    app = cluster.apps[0]
    keys, store = Keys(app[SETTINGS].store.key_prefix), app[STORE]
    seconds = await store.hget(keys.room_watch(room), user)
    span = await store.hget(keys.watch_spans(room), user)
    assert seconds is not None
    assert span is not None
    return int(seconds), int(as_text(span).split(":")[0])


async def test_watch_time_spans_a_reconnect_and_two_nodes_at_once(cluster: Cluster) -> None:
    room = await cluster.room()
    watch = Stopwatch()
    first = await watch.open(cluster, room, "w", node=0)
    await asyncio.sleep(2.0)
    second = await watch.open(cluster, room, "w", node=1)  # both nodes at once
    await asyncio.sleep(1.5)
    await watch.close(first)
    await asyncio.sleep(1.0)
    await watch.close(second)
    await asyncio.sleep(1.5)  # gone, then back
    third = await watch.open(cluster, room, "w", node=0)
    await asyncio.sleep(2.0)
    await watch.close(third)
    await asyncio.sleep(INTERVAL_S * 4)  # each node's last report

    seconds, ms = await watched_ms(cluster, room, "w")

    least, most = watch.bounds()
    assert least > 5.0
    assert least - TOLERANCE_S <= ms / 1000 <= most + TOLERANCE_S, (ms, least, most)
    assert seconds == ms // 1000
    # Counted once: the two nodes' overlap (about 1.5 s) was not added twice.
    assert ms / 1000 < most + 1.0


async def test_the_report_has_average_and_median_and_anonymous_viewers_count_as_viewers(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    short, long_ = Stopwatch(), Stopwatch()
    anonymous = await cluster.join(room, None, node=1)
    a = await long_.open(cluster, room, "long", node=0)
    b = await short.open(cluster, room, "short", node=1)
    await asyncio.sleep(1.0)
    await short.close(b)
    await asyncio.sleep(2.0)
    await long_.close(a)
    await asyncio.sleep(INTERVAL_S * 4)

    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("anchor", "alice")
    )

    watch = report["watch"]
    assert watch["viewers"] == 2
    least = (short.bounds()[0] + long_.bounds()[0]) / 2
    most = (short.bounds()[1] + long_.bounds()[1]) / 2
    assert least - TOLERANCE_S <= watch["avg_s"] <= most + TOLERANCE_S
    assert least - TOLERANCE_S <= watch["median_s"] <= most + TOLERANCE_S
    assert report["peak_viewers"] == 3  # two users and one anonymous socket
    assert max(row["viewers"] for row in report["retention"]) == 3
    assert report["retention"][0]["t"] == 0
    times = [row["t"] for row in report["retention"]]
    assert times == list(range(0, 10 * len(times), 10))
    app = cluster.apps[0]
    keys, store = Keys(app[SETTINGS].store.key_prefix), app[STORE]
    assert sorted(as_text(u) for u in await store.hkeys(keys.room_watch(room))) == [
        "long",
        "short",
    ]
    await anonymous.close()


async def test_staff_watching_is_not_watch_time_nor_an_entry(cluster: Cluster) -> None:
    room = await cluster.room()
    anchor = await cluster.join(room, "alice", role="anchor")
    mod = await cluster.join(room, "mia", role="moderator", node=1)
    await asyncio.sleep(1.2)
    await anchor.close()
    await mod.close()
    await asyncio.sleep(INTERVAL_S * 3)

    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("anchor", "alice")
    )

    assert report["funnel"]["entries"]["total"] == 0
    assert report["watch"]["viewers"] == 0
