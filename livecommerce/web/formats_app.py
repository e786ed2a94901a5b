"""The selling formats in the app: their services, their loops, their channel frames.

``formats_context`` builds the voucher, auction and giveaway services on the node's store
(claims and bids batched per event-loop tick, like buys) and runs their worker;
``answer_format`` handles ``claim``, ``bid`` and ``enter`` frames; ``after_chat`` lets a
chat line count as a giveaway keyword; ``FormatsView`` is the welcome's snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from livecommerce.auth import Principal
from livecommerce.channel.format_messages import Bid, Claim, Enter, FormatMessage
from livecommerce.channel.session import ChannelSession
from livecommerce.commerce.auctions import AuctionService
from livecommerce.commerce.formats_worker import FormatsWorker
from livecommerce.commerce.giveaways import GiveawayService
from livecommerce.commerce.vouchers import VoucherService
from livecommerce.store.batch import StoreBatcher
from livecommerce.web.state import BUS, SETTINGS, STORE_CONTEXT

VOUCHERS = web.AppKey("vouchers", VoucherService)
AUCTIONS = web.AppKey("auctions", AuctionService)
GIVEAWAYS = web.AppKey("giveaways", GiveawayService)


class FormatsView:
    """The live vouchers, auctions and giveaways of a room, for the welcome snapshot."""

    def __init__(
        self, vouchers: VoucherService, auctions: AuctionService, giveaways: GiveawayService
    ) -> None:
        self._vouchers = vouchers
        self._auctions = auctions
        self._giveaways = giveaways

    async def snapshot(self, room_id: str) -> dict[str, object]:
        return {
            "vouchers": [v.to_json() for v in await self._vouchers.active(room_id)],
            "pinned_voucher": await self._vouchers.pinned(room_id),
            "auctions": [a.to_json() for a in await self._auctions.active(room_id)],
            "giveaways": [g.to_json() for g in await self._giveaways.active(room_id)],
        }


FORMATS_VIEW = web.AppKey("formats_view", FormatsView)


async def formats_context(app: web.Application) -> AsyncIterator[None]:
    """The formats' services and worker; stopped before the store."""
    settings = app[SETTINGS]
    store = app[STORE_CONTEXT]
    own = (
        StoreBatcher(store.client, scripts=store.scripts, metrics=store.metrics)
        if settings.commerce.batch_buys and store.durable is None
        else None
    )
    # Claims are money: with store.min_replicas_ack they go through the waiting batcher.
    batcher = store.durable or own
    idempotency_ttl_s = settings.commerce.idempotency_ttl_s
    analytics = settings.analytics.exact_users_max if settings.analytics.enabled else None
    vouchers = VoucherService(
        store=store, batcher=batcher, analytics=analytics, idempotency_ttl_s=idempotency_ttl_s
    )
    auctions = AuctionService(
        store=store,
        settings=settings.formats,
        batcher=batcher,
        analytics=analytics,
        daily_buyers_ttl_s=settings.commerce.daily_buyers_retention_days * 86_400,
        idempotency_ttl_s=idempotency_ttl_s,
    )
    giveaways = GiveawayService(
        store=store,
        order_retention_s=settings.commerce.order_retention_days * 86_400,
        ended_entrants_max=settings.formats.giveaway_ended_entrants_max,
        analytics=analytics,
    )
    app[VOUCHERS], app[AUCTIONS], app[GIVEAWAYS] = vouchers, auctions, giveaways
    app[FORMATS_VIEW] = FormatsView(vouchers, auctions, giveaways)
    worker = FormatsWorker(
        vouchers=vouchers,
        auctions=auctions,
        giveaways=giveaways,
        bus=app[BUS],
        tick_s=settings.formats.tick_s,
        broadcast_s=settings.formats.bid_broadcast_interval_s,
    )
    worker.start()
    yield
    await worker.stop()
    if own is not None:
        await own.aclose()


async def end_running_formats(app: web.Application, room_id: str) -> None:
    """What still runs of a room's selling formats ends as its own end would: auctions
    close (the leader wins if the reserve is met), giveaways draw, dropped vouchers stop
    taking claims; each announced to the room. Called when the room ends, before its
    ``room_ended``, so viewers see the outcomes."""
    auctions, giveaways, vouchers = app[AUCTIONS], app[GIVEAWAYS], app[VOUCHERS]
    for auction in await auctions.active(room_id):
        await auctions.close(room_id, auction.id, force=True)
    for giveaway in await giveaways.active(room_id):
        await giveaways.finish(room_id, giveaway.id, force=True)
    for voucher in await vouchers.active(room_id):
        await vouchers.change(room_id, voucher.id, "end")


async def answer_format(
    request: web.Request, session: ChannelSession, principal: Principal, message: FormatMessage
) -> None:
    """Answer a ``claim``, ``bid`` or ``enter`` frame to its sender."""
    room_id, user = session.room_id, principal.user
    if isinstance(message, Claim):
        claim = await request.app[VOUCHERS].claim(room_id, message.voucher, user, message.key)
        session.send(claim.frame(message.key))
    elif isinstance(message, Bid):
        bid = await request.app[AUCTIONS].bid(
            room_id, message.auction, user, message.amount_cents, message.max_cents, message.key
        )
        session.send(bid.frame(message.key))
    elif isinstance(message, Enter):
        reply = await request.app[GIVEAWAYS].enter(room_id, message.giveaway, user)
        frame: dict[str, object] = {
            "type": "enter_result",
            "giveaway": message.giveaway,
            "ok": reply.ok,
        }
        if message.key is not None:
            frame["key"] = message.key
        if reply.ok:
            frame["entrants"] = reply.entrants
        else:
            frame["reason"] = reply.outcome.value
        session.send(frame)


async def after_chat(request: web.Request, room_id: str, user: str, text: str) -> None:
    """A chat line was posted: it may be an open giveaway's keyword."""
    await request.app[GIVEAWAYS].note_chat(room_id, user, text)
