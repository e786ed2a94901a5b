"""Room retention: an ended room's keys go at once, ``rooms.retention_days`` after it
ended, and only when its outbox is empty and no reservation is open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.app import STORE_CONTEXT
from livecommerce.hooks.outbox import Outbox
from livecommerce.rooms.retention import DAY_MS, RoomRetention
from livecommerce.store.decoding import as_text
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.store.replies_rooms import RoomDelete
from livecommerce.web.state import ANALYTICS, ROOMS, SETTINGS, STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product, sale

RETENTION_DAYS = 10.0


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections: dict[str, dict[str, Any]] = {
        # The apps' own sweeps wait: the test runs rounds itself, on a clock it sets.
        "rooms": {"retention_days": RETENTION_DAYS, "sweep_interval_s": 3600},
        # No endpoints: the outbox is trimmed by age alone, at once.
        "hooks": {"retention_days": 1e-9, "trim_interval_s": 0.1},
    }
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


class Clock:
    def __init__(self) -> None:
        self.ahead_ms = 0

    def __call__(self) -> int:
        return int(time.time() * 1000) + self.ahead_ms


def sweeper(cluster: Cluster, clock: Clock) -> RoomRetention:
    return RoomRetention(
        store=cluster.apps[0][STORE_CONTEXT],
        retention_days=RETENTION_DAYS,
        interval_s=3600,
        clock_ms=clock,
    )


async def room_keys(cluster: Cluster, room: str) -> dict[str, int]:
    """Every key of the room's hash tag, with its TTL in ms (-1: none)."""
    store = cluster.apps[0][STORE]
    prefix = cluster.apps[0][SETTINGS].store.key_prefix
    found = {}
    async for raw in store.scan_iter(match=f"{prefix}{{r:{room}}}*", count=500):
        key = as_text(raw)
        found[key.removeprefix(f"{prefix}{{r:{room}}}:")] = int(await store.pttl(key))
    return found


async def indexed(cluster: Cluster, room: str) -> dict[str, bool]:
    store = cluster.apps[0][STORE]
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    return {
        "rooms": await store.zscore(keys.rooms_index(), room) is not None,
        "rooms:ended": await store.zscore(keys.rooms_ended(), room) is not None,
        "outboxes": bool(await store.sismember(keys.outboxes(), room)),
        "reserving": bool(await store.sismember(keys.reserving_rooms(), room)),
    }


async def busy_room(cluster: Cluster, reservation_ttl_s: int = 300) -> tuple[str, list[str]]:
    """A room with chat, moderation, a pinned product, a sale and three buys (one paid, one
    cancelled, one left reserved); the room and the three order ids."""
    anchor = cluster.token("anchor", "alice")
    mod = cluster.token("moderator", "mia")
    room = await cluster.room()
    viewer = await cluster.join(room, "bea")
    for line in range(3):
        await viewer.send({"type": "chat", "text": f"hello {line}"})
    await viewer.wait_for("chat")
    for action, body in [
        ("mute-user", {"user": "zed", "duration_s": 60}),
        ("ban", {"user": "x"}),
        ("slow-mode", {"interval_s": 2}),
    ]:
        got = await cluster.api("POST", f"/api/rooms/{room}/moderation/{action}", mod, body)
        assert got[0] == 200, got
    item = await product(cluster, room)
    pinned = await cluster.api("POST", f"/api/rooms/{room}/pin", anchor, {"product_id": item["id"]})
    assert pinned[0] == 200
    opened = await sale(
        cluster, room, item["id"], per_user_limit=5, reservation_ttl_s=reservation_ttl_s
    )
    orders = []
    for key in ("pay", "cancel", "open"):
        await viewer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": key})
        answer = await viewer.wait_for(
            lambda f, k=key: f.get("type") == "buy_result" and f["key"] == k
        )
        assert answer["ok"] is True, answer
        orders.append(str(answer["order"]))
    backend = cluster.token("backend", "shop")
    assert (await cluster.api("POST", f"/api/orders/{orders[0]}/paid", backend))[0] == 200
    assert (await cluster.api("POST", f"/api/orders/{orders[1]}/cancel", backend))[0] == 200
    await viewer.close()
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    return room, orders


async def outbox_trimmed(cluster: Cluster, room: str) -> None:
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    deadline = time.monotonic() + 15
    while int(await cluster.apps[0][STORE].xlen(keys.outbox(room))) > 0:
        assert time.monotonic() < deadline, "the outbox to be trimmed"
        await asyncio.sleep(0.1)


async def test_an_ended_room_goes_at_once_after_its_retention_once_nothing_is_pending(
    cluster: Cluster,
) -> None:
    clock = Clock()
    sweep = sweeper(cluster, clock)
    room, orders = await busy_room(cluster)
    await outbox_trimmed(cluster, room)
    before = await room_keys(cluster, room)
    for family in ("room", "chat", "mod", "mutes", "bans", "products", "pinned", "sales"):
        assert family in before, (family, sorted(before))

    # Not yet: it ended just now.
    assert await sweep.sweep() == 0
    assert set(await room_keys(cluster, room)) == set(before)

    # Past the retention, but a reservation is still open: kept, whole.
    clock.ahead_ms = int(RETENTION_DAYS * DAY_MS) + 60_000
    assert await sweep.sweep() == 0
    assert set(await room_keys(cluster, room)) == set(before)
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    ended_before = clock() - int(RETENTION_DAYS * DAY_MS)
    assert await sweep.delete(room, ended_before) is RoomDelete.reservations_open

    backend = cluster.token("backend", "shop")
    assert (await cluster.api("POST", f"/api/orders/{orders[2]}/cancel", backend))[0] == 200
    await outbox_trimmed(cluster, room)  # the cancel wrote an event; trimmed again
    assert await sweep.sweep() == 1

    left = await room_keys(cluster, room)
    # Only the orders are left, each expiring on its own (commerce.order_retention_days).
    assert set(left) == {f"order:{order}" for order in orders}, sorted(left)
    assert all(ttl > 0 for ttl in left.values()), left
    assert await indexed(cluster, room) == {
        "rooms": False,
        "rooms:ended": False,
        "outboxes": False,
        "reserving": False,
    }
    assert not [
        m
        for m in await cluster.apps[0][STORE].zrange(keys.sales_clock(), 0, -1)
        if as_text(m).startswith(f"{room} ")
    ]
    got = await cluster.api("GET", f"/api/rooms/{room}")
    assert got[0] == 404, got
    listed = await cluster.api("GET", "/api/rooms?status=ended")
    assert room not in {r["id"] for r in listed[1]["rooms"]}
    # The orders can still be read, until they expire.
    assert (await cluster.api("GET", f"/api/orders/{orders[0]}", backend))[1]["status"] == "paid"
    # Again: nothing left to do.
    assert await sweep.sweep() == 0


async def test_a_dispatcher_reading_while_the_room_is_deleted_never_brings_its_outbox_back(
    cluster: Cluster,
) -> None:
    clock = Clock()
    sweep = sweeper(cluster, clock)
    room, orders = await busy_room(cluster)
    backend = cluster.token("backend", "shop")
    assert (await cluster.api("POST", f"/api/orders/{orders[2]}/cancel", backend))[0] == 200
    await outbox_trimmed(cluster, room)
    context = cluster.apps[0][STORE_CONTEXT]
    outbox = Outbox(client=context.client, keys=context.keys, scripts=context.scripts)
    keys, store = context.keys, context.client
    assert await outbox.ensure_groups(room, ["hooks:late"]) is True
    deleted = asyncio.Event()
    takes_after = 0

    async def dispatcher() -> None:
        # A lane's loop, as hooks/dispatcher.py runs it: take, (deliver), again.
        nonlocal takes_after
        while takes_after < 20:
            taken = await outbox.take(room, "hooks:late", "node-x", 10, 60_000)
            assert taken.entries == []
            takes_after += deleted.is_set()
            await asyncio.sleep(0)

    reading = asyncio.create_task(dispatcher())
    clock.ahead_ms = int(RETENTION_DAYS * DAY_MS) + 60_000
    assert await sweep.sweep() == 1
    deleted.set()
    await asyncio.wait_for(reading, 15)

    assert await store.exists(keys.outbox(room)) == 0
    assert await outbox.ensure_groups(room, ["hooks:late"]) is False
    assert await store.exists(keys.outbox(room)) == 0
    assert not await store.sismember(keys.outboxes(), room)


async def test_a_room_with_order_events_still_in_its_outbox_is_kept(cluster: Cluster) -> None:
    clock = Clock()
    sweep = sweeper(cluster, clock)
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    store = cluster.apps[0][STORE]
    # An undelivered event: far in the future, so no trim by age takes it.
    await store.xadd(keys.outbox(room), {"id": "evt"}, id=f"{clock() + 10 * 365 * DAY_MS}-0")
    clock.ahead_ms = int(RETENTION_DAYS * DAY_MS) + 60_000
    assert await sweep.delete(room, clock() - int(RETENTION_DAYS * DAY_MS)) is (
        RoomDelete.outbox_pending
    )
    assert await sweep.sweep() == 0
    assert (await cluster.api("GET", f"/api/rooms/{room}"))[0] == 200
    await store.delete(keys.outbox(room))
    assert await sweep.sweep() == 1
    assert await room_keys(cluster, room) == {}


async def test_live_and_scheduled_rooms_are_never_deleted(cluster: Cluster) -> None:
    clock = Clock()
    sweep = sweeper(cluster, clock)
    scheduled = await cluster.room()
    live = await cluster.room()
    app = cluster.apps[0]

    await app[ROOMS].go_live(live, "session-1", cluster.urls[0], ttl_ms=60_000)
    clock.ahead_ms = int(100 * RETENTION_DAYS * DAY_MS)
    ended_before = clock() - int(RETENTION_DAYS * DAY_MS)
    assert await sweep.delete(scheduled, ended_before) is RoomDelete.not_ended
    assert await sweep.delete(live, ended_before) is RoomDelete.not_ended
    assert await sweep.sweep() == 0
    for room in (scheduled, live):
        assert (await cluster.api("GET", f"/api/rooms/{room}"))[0] == 200


async def test_a_room_missing_from_the_ended_index_is_found_by_the_walk(
    cluster: Cluster,
) -> None:
    """A node that died between ending a room and indexing it, or a room ended by an older
    release: the walk over every room finds it."""
    clock = Clock()
    sweep = sweeper(cluster, clock)
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    await cluster.apps[0][STORE].zrem(keys.rooms_ended(), room)
    clock.ahead_ms = int(RETENTION_DAYS * DAY_MS) + 60_000
    assert await sweep.sweep() == 1
    assert await room_keys(cluster, room) == {}
    assert await indexed(cluster, room) == dict.fromkeys(
        ("rooms", "rooms:ended", "outboxes", "reserving"), False
    )


async def test_a_room_ended_without_its_report_frozen_gets_it_frozen_before_deletion(
    cluster: Cluster,
) -> None:
    """A node that dies between ending a room and freezing its report (or a sweep that runs
    in between) must not lose the report: the sweep freezes it before deleting the room."""
    app = cluster.apps[0]
    room = await cluster.room(anchor="alice")
    await app[ROOMS].end(room)  # the room's end without the route's freeze
    keys = Keys(app[SETTINGS].store.key_prefix)
    assert not await app[STORE].exists(keys.analytics_report(room))
    clock = Clock()
    clock.ahead_ms = int((RETENTION_DAYS + 1) * DAY_MS)
    sweep = RoomRetention(
        store=app[STORE_CONTEXT],
        retention_days=RETENTION_DAYS,
        interval_s=3600,
        clock_ms=clock,
        before_delete=app[ANALYTICS].freeze_if_missing,
    )
    assert await sweep.delete(room, clock() - int(RETENTION_DAYS * DAY_MS)) is RoomDelete.deleted
    status, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("anchor", "alice")
    )
    assert status == 200, report
    assert report["frozen"] is True
    assert report["status"] == "ended"
