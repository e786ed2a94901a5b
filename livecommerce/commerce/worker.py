"""The commerce background loop of a node: expiry sweeps, sale state changes and
throttled stock broadcasts. Safe to run on every node at once."""

from __future__ import annotations

import logging

from livecommerce.bus import RoomBus
from livecommerce.commerce.orders import OrderService
from livecommerce.commerce.sales import SaleService
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.commerce")


class CommerceWorker:
    """The sweep (expired reservations, sales that open or close) and the stock
    broadcast, each a periodic loop; a store outage is logged once per loop."""

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
        self._tasks = Supervisor(logger=log)

    def start(self) -> None:
        for name, interval_s, job in (
            ("commerce-sweep", self._sweep_interval_s, self.sweep),
            ("commerce-stock", self._stock_interval_s, self.broadcast_stock),
        ):
            self._tasks.every(name, interval_s, job, quiet=STORE_UNAVAILABLE_ERRORS)

    async def stop(self) -> None:
        await self._tasks.stop()

    async def sweep(self) -> None:
        await self._orders.expire_due()
        await self._sales.advance_due()

    async def broadcast_stock(self) -> None:
        for room_id, sale_id, left in await self._orders.stock_changes():
            await self._bus.publish(room_id, {"type": "sale_stock", "sale": sale_id, "left": left})
