"""A flash sale survives its store being killed (SIGKILL) and restarted from the AOF."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from livecommerce.bus import StoreRoomBus
from livecommerce.channel.events import check_delivery
from livecommerce.commerce.catalog import Catalog
from livecommerce.commerce.orders import OrderService
from livecommerce.commerce.sales import SaleService, SaleTerms
from livecommerce.config import DiscoverySettings
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, connect
from livecommerce.store.decoding import decode_entries
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from tests.store_context import store_context

STOCK = 40


@pytest.mark.parametrize("batched", [False, True], ids=["one-call-per-buy", "batched"])
async def test_no_reservation_or_outbox_event_is_lost_and_nothing_is_oversold(
    tmp_path: Path, key_prefix: str, batched: bool
) -> None:
    store = EmbeddedValkey(tmp_path / "store")
    store.start()
    client = connect(store.url, connect_timeout_s=1, command_timeout_s=2, retries=1)
    keys = Keys(key_prefix)
    bus = StoreRoomBus(client, keys, check=check_delivery)
    await bus.start()
    context = store_context(client, key_prefix, bus=bus)
    batcher = (
        StoreBatcher(client, scripts=context.scripts, metrics=context.metrics) if batched else None
    )
    sales = SaleService(store=context)
    orders = OrderService(store=context, discovery=DiscoverySettings(), batcher=batcher)
    try:
        product = await Catalog(store=context).add("room1", "S", "Silk scarf", 5000, "EUR", None)
        sale = await sales.create("room1", SaleTerms(product, 2500, STOCK, 1, 600, 600, None))

        granted: set[str] = set()

        async def buy(user: str) -> None:
            try:
                answer = await orders.buy("room1", sale.id, user, 1, f"k-{user}")
            except STORE_UNAVAILABLE_ERRORS:
                return  # the buyer saw an error and will retry with the same key
            if answer.body["ok"]:
                granted.add(answer.body["order"])

        await asyncio.gather(*(buy(f"early{n}") for n in range(25)))
        assert store.pid is not None
        os.kill(store.pid, signal.SIGKILL)
        await asyncio.gather(*(buy(f"during{n}") for n in range(10)))

        store.stop()  # reaps the killed process; the next one starts on the same files
        store = EmbeddedValkey(tmp_path / "store")
        store.start()
        # Everyone retries with the same key; then a crowd arrives for what is left.
        for _ in range(20):
            try:
                await client.ping()
                break
            except STORE_UNAVAILABLE_ERRORS:
                await asyncio.sleep(0.2)
        await asyncio.gather(*(buy(f"during{n}") for n in range(10)))
        await asyncio.gather(*(buy(f"late{n}") for n in range(60)))

        state = await sales.get("room1", sale.id)
        assert state.stock == 0
        assert state.reserved == STOCK
        assert len(granted) == STOCK
        created = [
            json.loads(fields["data"])["id"]
            for _, fields in decode_entries(await client.xrange(keys.outbox("room1")))
            if fields["type"] == "order.created"
        ]
        assert sorted(created) == sorted(granted)
        for order_id in granted:
            order = await orders.get(order_id)
            assert order.status == "reserved"
    finally:
        await bus.stop()
        await client.aclose()
        store.stop()
