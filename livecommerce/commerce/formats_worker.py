"""The selling formats' background loops of a node: closing due auctions and drawing due
giveaways (the store's clock decides what is due; each close happens once whichever
nodes run it), and the throttled broadcasts of auction prices and voucher stock. Safe
to run on every node at once."""

from __future__ import annotations

import logging

from livecommerce.bus import RoomBus
from livecommerce.commerce.auctions import AuctionService
from livecommerce.commerce.giveaways import GiveawayService
from livecommerce.commerce.vouchers import VoucherService
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.formats")


class FormatsWorker:
    def __init__(
        self,
        *,
        vouchers: VoucherService,
        auctions: AuctionService,
        giveaways: GiveawayService,
        bus: RoomBus,
        tick_s: float,
        broadcast_s: float,
    ) -> None:
        self._vouchers = vouchers
        self._auctions = auctions
        self._giveaways = giveaways
        self._bus = bus
        self._tick_s = tick_s
        self._broadcast_s = broadcast_s
        self._tasks = Supervisor(logger=log)

    def start(self) -> None:
        for name, interval_s, job in (
            ("formats-clock", self._tick_s, self.close_due),
            ("formats-broadcast", min(self._tick_s, self._broadcast_s), self.broadcast),
        ):
            self._tasks.every(name, interval_s, job, quiet=STORE_UNAVAILABLE_ERRORS)

    async def stop(self) -> None:
        await self._tasks.stop()

    async def close_due(self) -> None:
        await self._auctions.close_due()
        await self._giveaways.finish_due()

    async def broadcast(self) -> None:
        await self._auctions.announce_changes()
        for room_id, voucher_id, left in await self._vouchers.stock_changes():
            event = {"type": "voucher_stock", "voucher": voucher_id, "left": left}
            await self._bus.publish(room_id, event)
