"""The buy path below the channel, wired as the app wires it, on the test's store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from livecommerce.bus import StoreRoomBus
from livecommerce.channel.events import check_delivery
from livecommerce.commerce.models import Product
from livecommerce.commerce.orders import OrderService
from livecommerce.commerce.sales import SaleService, SaleTerms
from livecommerce.config import DiscoverySettings
from livecommerce.store import client as store_client
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from tests.store_context import store_context


@dataclass(frozen=True)
class BuyServices:
    client: store_client.StoreClient
    keys: Keys
    scripts: ScriptRunner
    sales: SaleService
    orders: OrderService
    batcher: StoreBatcher | None


@asynccontextmanager
async def buy_services(
    url: str,
    key_prefix: str,
    *,
    batch_buys: bool,
    max_connections: int = 16,
    command_timeout_s: float = 5.0,
) -> AsyncIterator[BuyServices]:
    """Sales and orders on a store client of ``max_connections``, with the in-flight bound
    of unbatched buys sized to the pool, as ``app.py`` does."""
    client = store_client.connect(url, 2.0, command_timeout_s, 2, max_connections=max_connections)
    keys = Keys(key_prefix)
    bus = StoreRoomBus(client, keys, check=check_delivery)
    store = store_context(client, key_prefix, bus=bus)
    scripts = store.scripts
    await scripts.load_all()
    await bus.start()
    batcher = StoreBatcher(client, scripts=scripts, metrics=store.metrics) if batch_buys else None
    orders = OrderService(
        store=store,
        discovery=DiscoverySettings(),
        batcher=batcher,
        max_in_flight=max_connections,
        wait_s=command_timeout_s,
    )
    try:
        yield BuyServices(client, keys, scripts, SaleService(store=store), orders, batcher)
    finally:
        if batcher is not None:
            await batcher.aclose()
        await bus.stop()
        await client.aclose()


async def open_sale(
    services: BuyServices, room: str, quantity: int, per_user_limit: int = 1
) -> str:
    """A sale open now in ``room``; its id."""
    product = Product(f"p-{room}", room, "TEA-1", "Oolong", 1800, "EUR", None)
    terms = SaleTerms(product, 990, quantity, per_user_limit, 600, 600, None)
    return (await services.sales.create(room, terms)).id
