"""Retention: the outbox keeps what an endpoint still owes and drops what all have
acknowledged once old; dead letters and final orders expire; each day's buyer count too."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from livecommerce.hooks.dead_letters import bury, load_all, new_dead_letter
from livecommerce.hooks.retention import DAY_MS, trim_attempts, trim_dead_letters, trim_outbox
from livecommerce.store import client as store_client
from livecommerce.store.client import StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import room_with_sale

OLD = [f"1000-{n}" for n in range(4)]  # 1970: far older than any retention


@pytest.fixture
async def store(valkey: EmbeddedValkey) -> AsyncIterator[StoreClient]:
    client = store_client.connect(valkey.url, 2.0, 5.0, 2)
    yield client
    await client.aclose()


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


async def ids(store: StoreClient, stream: str) -> list[str]:
    return [as_text(entry_id) for entry_id, _ in await store.xrange(stream)]


async def read_and_ack(store: StoreClient, stream: str, group: str, read: int, ack: int) -> None:
    """The group reads ``read`` entries from its start and acknowledges the first ``ack``."""
    got = await store.xreadgroup(group, "c", {stream: ">"}, count=read)
    entries = [as_text(entry_id) for entry_id, _ in got[0][1]] if got else []
    assert len(entries) == read
    if ack:
        await store.xack(stream, group, *entries[:ack])


async def test_the_trim_drops_entries_all_groups_acknowledged_and_old_enough_only(
    store: StoreClient, keys: Keys
) -> None:
    stream = keys.outbox("r1")
    for entry_id in OLD:
        await store.xadd(stream, {"n": entry_id}, id=entry_id)
    fresh = [as_text(await store.xadd(stream, {"n": "fresh"})) for _ in range(2)]
    for group in ("hooks:a", "hooks:b", "hooks:c"):
        await store.xgroup_create(stream, group, id="0")
    await read_and_ack(store, stream, "hooks:a", read=6, ack=6)  # all acknowledged
    await read_and_ack(store, stream, "hooks:b", read=4, ack=3)  # OLD[3] pending
    await read_and_ack(store, stream, "hooks:c", read=3, ack=3)  # OLD[3] not yet read

    # A group that does not exist yet (a new endpoint) has acknowledged nothing.
    groups = ["hooks:a", "hooks:b", "hooks:c"]
    assert await trim_outbox(store, keys, "r1", [*groups, "hooks:new"], DAY_MS) == 0
    assert await ids(store, stream) == OLD + fresh

    assert await trim_outbox(store, keys, "r1", groups, DAY_MS) == 3
    assert await ids(store, stream) == [OLD[3], *fresh]

    # Pending for b, unread for c: kept however old, until both are done with it.
    await store.xack(stream, "hooks:b", OLD[3])
    assert await trim_outbox(store, keys, "r1", groups, DAY_MS) == 0
    await read_and_ack(store, stream, "hooks:c", read=3, ack=3)
    await read_and_ack(store, stream, "hooks:b", read=2, ack=2)
    assert await trim_outbox(store, keys, "r1", groups, DAY_MS) == 1
    # Acknowledged by all but younger than the retention: kept.
    assert await ids(store, stream) == fresh
    # With no retention left, they go too; the groups stay usable.
    await asyncio.sleep(0.01)
    assert await trim_outbox(store, keys, "r1", groups, 1) == 2
    assert await ids(store, stream) == []
    await store.xadd(stream, {"n": "later"})
    await read_and_ack(store, stream, "hooks:a", read=1, ack=0)


async def test_dead_letters_past_their_retention_are_removed(
    store: StoreClient, keys: Keys
) -> None:
    await store.xadd(keys.outbox("r1"), {"id": "e"}, id="1000-0")
    await store.xgroup_create(keys.outbox("r1"), "hooks:a", id="0")
    letter = new_dead_letter("a", "http://x", "r1", "1000-0", {"id": "e"}, 3, "HTTP 500")
    old = new_dead_letter("a", "http://x", "r1", "999-0", {"id": "d"}, 3, "HTTP 500")
    await bury(store, keys, letter)
    aged = json.loads(old.to_json()) | {"dead_at_ms": int(time.time() * 1000) - 2 * DAY_MS}
    await store.hset(keys.dead_letters(), old.id, json.dumps(aged))
    assert await trim_dead_letters(store, keys, DAY_MS) == 1
    assert [kept.id for kept in await load_all(store, keys)] == [letter.id]


async def pttl(cluster: Cluster, key: str) -> int:
    return int(await cluster.apps[0][STORE].pttl(key))


async def test_an_order_expires_a_set_time_after_its_final_state_and_not_before(
    cluster: Cluster,
) -> None:
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    retention_ms = cluster.apps[0][SETTINGS].commerce.order_retention_days * DAY_MS
    room, open_sale = await room_with_sale(cluster, per_user_limit=5, reservation_ttl_s=1)
    buyer = await cluster.join(room, "bea")
    orders = []
    for key in ("pay", "cancel", "expire"):
        await buyer.send({"type": "buy", "sale": open_sale["id"], "qty": 1, "key": key})
        answer = await buyer.wait_for(
            lambda f, k=key: f.get("type") == "buy_result" and f["key"] == k
        )
        assert answer["ok"] is True, answer
        orders.append(str(answer["order"]))
    for order in orders:
        assert await pttl(cluster, keys.order(room, order)) == -1  # reserved: kept

    backend = cluster.token("backend", "shop")
    assert (await cluster.api("POST", f"/api/orders/{orders[0]}/paid", backend))[0] == 200
    assert (await cluster.api("POST", f"/api/orders/{orders[1]}/cancel", backend))[0] == 200
    deadline = time.monotonic() + 10
    while (await cluster.api("GET", f"/api/orders/{orders[2]}", backend))[1]["status"] != "expired":
        assert time.monotonic() < deadline, "the sweeper to expire the third order"
        await asyncio.sleep(0.1)
    for order in orders:
        left = await pttl(cluster, keys.order(room, order))
        assert retention_ms - 60_000 < left <= retention_ms, (order, left)

    day = time.strftime("%Y-%m-%d", time.gmtime())
    left_s = int(await cluster.apps[0][STORE].ttl(keys.daily_buyers(day)))
    assert 399 * 86_400 < left_s <= 400 * 86_400
    await buyer.close()


async def test_without_endpoints_the_outbox_is_trimmed_by_age_alone(
    store: StoreClient, keys: Keys
) -> None:
    stream = keys.outbox("r1")
    for entry_id in OLD:
        await store.xadd(stream, {"n": entry_id}, id=entry_id)
    fresh = as_text(await store.xadd(stream, {"n": "fresh"}))
    await store.xgroup_create(stream, "backend", id="0")  # a direct reader: not waited for
    assert await trim_outbox(store, keys, "r1", [], DAY_MS) == 4
    assert await ids(store, stream) == [fresh]


async def test_attempt_counters_of_endpoints_no_longer_configured_are_removed(
    store: StoreClient, keys: Keys
) -> None:
    await store.hset(keys.hook_attempts(), mapping={"kept|r1|1-0": 2, "gone|r1|1-0": 3})
    assert await trim_attempts(store, keys, {"kept"}) == 1
    assert await store.hgetall(keys.hook_attempts()) == {b"kept|r1|1-0": b"2"}
