"""The bounds that used to be fixed in code follow their settings, so a compressed soak
can shrink them too: buy, claim and bid answers (``commerce.idempotency_ttl_s``), chat
buckets and slow-mode times (``channel.chat_idle_ttl_s``) and daily buyer counts
(``commerce.daily_buyers_retention_days``) expire when the settings say."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.commerce.orders import utc_day
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import room_with_sale
from tests.integration.formats_helpers import auction, voucher

IDEMPOTENCY_S = 2.0
CHAT_IDLE_S = 1.5
DAILY_BUYERS_DAYS = 3.0


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {
        "commerce": {
            "idempotency_ttl_s": IDEMPOTENCY_S,
            "daily_buyers_retention_days": DAILY_BUYERS_DAYS,
        },
        "channel": {"chat_idle_ttl_s": CHAT_IDLE_S},
    }
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


async def test_idempotency_chat_buckets_and_daily_buyers_expire_as_configured(
    cluster: Cluster, key_prefix: str
) -> None:
    room, sale = await room_with_sale(cluster, per_user_limit=5)
    viewer = await cluster.join(room, "bea")
    await viewer.send({"type": "chat", "text": "hello"})
    await viewer.wait_for("chat")
    await viewer.send({"type": "buy", "sale": sale["id"], "key": "k1"})
    first = await viewer.wait_for(lambda f: f.get("type") == "buy_result" and f["key"] == "k1")
    assert first["ok"] is True, first
    keys, store = Keys(key_prefix), cluster.apps[0][STORE]
    answers = keys.sale_idempotency(room, str(sale["id"]))
    ttl_ms = {
        "idempotency": int(await store.pttl(answers)),
        "buckets": int(await store.pttl(keys.chat_buckets(room))),
        "last": int(await store.pttl(keys.chat_last_post(room))),
    }
    assert 0 < ttl_ms["idempotency"] <= IDEMPOTENCY_S * 1000, ttl_ms
    assert 0 < ttl_ms["buckets"] <= CHAT_IDLE_S * 1000, ttl_ms
    assert 0 < ttl_ms["last"] <= CHAT_IDLE_S * 1000, ttl_ms
    # Voucher claims and auction bids keep their answers as long.
    offer = await voucher(cluster, room)
    lot = await auction(cluster, room, str(sale["product_id"]), duration_s=600)
    await viewer.send({"type": "claim", "voucher": offer["id"], "key": "c1"})
    assert (await viewer.wait_for("claim_result"))["ok"] is True
    await viewer.send({"type": "bid", "auction": lot["id"], "amount_cents": 500, "key": "b1"})
    assert (await viewer.wait_for("bid_result"))["ok"] is True
    for answers_key in (
        keys.voucher_idempotency(room, offer["id"]),
        keys.auction_idempotency(room, lot["id"]),
    ):
        assert 0 < int(await store.pttl(answers_key)) <= IDEMPOTENCY_S * 1000, answers_key
    dab_s = int(await store.ttl(keys.daily_buyers(utc_day())))
    assert DAILY_BUYERS_DAYS * 86_400 - 60 < dab_s <= DAILY_BUYERS_DAYS * 86_400

    # Within the TTL the key gives the first answer; past it the records are gone and the
    # same key buys again (a new order).
    mark = len(viewer.frames)
    await viewer.send({"type": "buy", "sale": sale["id"], "key": "k1"})
    again = await viewer.wait_for(
        lambda f: f.get("type") == "buy_result" and f["key"] == "k1", after=mark
    )
    assert again == first
    deadline = time.monotonic() + 15
    while await store.exists(answers, keys.chat_buckets(room), keys.chat_last_post(room)):
        assert time.monotonic() < deadline, "the records to expire"
        await asyncio.sleep(0.1)
    mark = len(viewer.frames)
    await viewer.send({"type": "buy", "sale": sale["id"], "key": "k1"})
    later = await viewer.wait_for(
        lambda f: f.get("type") == "buy_result" and f["key"] == "k1", after=mark
    )
    assert later["ok"] is True, later
    assert later["order"] != first["order"]
    await viewer.close()
