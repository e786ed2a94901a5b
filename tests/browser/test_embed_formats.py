"""``<livecommerce-room>`` on a page of another site shows the selling formats (issue 14,
item 4): the voucher chip claims and the next buy carries the voucher, the auction card
shows the live price and countdown and bids, the giveaway card enters and shows the draw.
Every action goes through the SDK's keyed ``claim``/``bid``/``enter``."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from tests.browser.chrome import needs_chromium, open_page
from tests.browser.test_embed import Shop, inside
from tests.browser.test_embed import shop as shop
from tests.browser.test_embed import site as site
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway, order_events, voucher

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_the_element_claims_bids_and_enters_from_another_origin(
    site: Cluster,
    shop: tuple[Shop, TestServer],
    browser: Browser,
) -> None:
    pages, server = shop
    room = await site.room(title="Tea formats")
    item = await product(site, room, title="Oolong 100 g", price_cents=1800)
    flash = await sale(site, room, item["id"], quantity=5, per_user_limit=1, price_cents=990)
    offer = await voucher(site, room, title="Welcome", discount_cents=300)
    pages.page = {"node": site.urls[0], "room": room, "token": site.token("viewer", "bob")}
    page = await open_page(browser, f"http://localhost:{server.port}/", width=1000, height=900)
    await page.wait_for_function(
        "() => document.querySelector('livecommerce-room')?.dataset.channel === 'open'"
    )
    note = page.locator(inside(".note"))

    chip = page.locator(inside(f'.voucher[data-voucher="{offer["id"]}"]'))
    await expect(chip).to_contain_text("Welcome")
    await chip.locator("button.claim").click()
    await expect(note).to_have_text("Voucher claimed: it is taken off your next buy.")
    await expect(chip.locator("button.claim")).to_have_text("Claimed")
    await expect(chip.locator("button.claim")).to_be_disabled()
    await page.locator(inside(f'.sale[data-sale="{flash["id"]}"] button.buy')).click()
    await expect(page.locator(inside(".order"))).to_contain_text("reserved")
    created = [d for kind, d in await order_events(site, room) if kind == "order.created"]
    assert [(d["user"], d["voucher"], d["discount_cents"]) for d in created] == [
        ("bob", offer["id"], 300)
    ]

    lot = await auction(site, room, item["id"], start_price_cents=500, duration_s=60)
    card = page.locator(inside(f'.auction[data-auction="{lot["id"]}"]'))
    await expect(card.locator(".countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))
    await expect(card.locator("button.bid")).to_contain_text("Bid")
    await card.locator("button.bid").click()
    await expect(note).to_have_text("You are the highest bidder.")
    await expect(card.locator(".auction-leader")).to_have_text("bob leads")
    # Another bidder's bid moves the card's price for bob (auction_bid).
    rival = await site.join(room, "carol", node=1)
    shown = await rival.wait_for("welcome")
    lots = shown["formats"]["auctions"]
    await rival.send(
        {
            "type": "bid",
            "auction": lot["id"],
            "amount_cents": lots[0]["min_next_cents"],
            "max_cents": 5000,
            "key": "c1",
        }
    )
    assert (await rival.wait_for("bid_result"))["ok"] is True
    await expect(card.locator(".auction-leader")).to_have_text("carol leads")
    anchor = site.token("anchor", "alice")
    status, _ = await site.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200
    await expect(card.locator(".auction-result")).to_have_text("Won by carol")

    prize = await giveaway(site, room, title="Tea for two", duration_s=60)
    gift = page.locator(inside(f'.giveaway[data-giveaway="{prize["id"]}"]'))
    await gift.locator("button.enter").click()
    await expect(gift.locator("button.enter")).to_have_text("Entered")
    await expect(note).to_have_text("You are in the giveaway. Good luck!")
    status, _ = await site.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert status == 200
    await expect(gift.locator(".giveaway-result")).to_have_text("You won!")
    await expect(gift.locator(".giveaway-entrants")).to_have_text("1 entrant")
    await expect(note).to_have_text("You won the giveaway!")
