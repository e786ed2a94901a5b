"""The commerce background loop of a node: expiry sweeps, sale state changes and
throttled stock broadcasts. Safe to run on every node at once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from livecommerce.bus import RoomBus
from livecommerce.commerce.orders import OrderService
from livecommerce.commerce.sales import SaleService
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import stop_loop

log = logging.getLogger("livecommerce.commerce")


class CommerceWorker:
    def __init__(
        self,
        orders: OrderService,
        sales: SaleService,
        bus: RoomBus,
        sweep_interval_s: float,
        stock_interval_s: float,
    ) -> None:
        self._orders = orders
        self._sales = sales
        self._bus = bus
        self._sweep_interval_s = sweep_interval_s
        self._stock_interval_s = stock_interval_s
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._every(self._sweep_interval_s, self.sweep), name="commerce-sweep"
            ),
            asyncio.create_task(
                self._every(self._stock_interval_s, self.broadcast_stock), name="commerce-stock"
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            await stop_loop(self._stopping, task)
        self._tasks = []

    async def sweep(self) -> None:
        await self._orders.expire_due()
        await self._sales.advance_due()

    async def broadcast_stock(self) -> None:
        for room_id, sale_id, left in await self._orders.stock_changes():
            await self._bus.publish(room_id, {"type": "sale_stock", "sale": sale_id, "left": left})

    async def _every(self, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
        failing = False
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                await job()
                failing = False
            except STORE_UNAVAILABLE_ERRORS as exc:
                if not failing:
                    log.warning("commerce job waits for the store: %s", exc)
                failing = True
            except Exception:
                log.exception("commerce job failed")
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))
