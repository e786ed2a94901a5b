"""The viewer page's selling formats in a real Chromium: claim a voucher and buy with it,
bid and win an auction, enter and win a giveaway; the orders reach the webhook receiver."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.browser.chrome import needs_chromium, open_page
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway, voucher
from tests.integration.media_peers import wait_for
from tests.integration.webhook_receiver import Receiver

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


async def created_for(receiver: Receiver, source: str) -> dict[str, Any]:
    def found() -> list[dict[str, Any]]:
        return [
            d.payload["data"]
            for d in receiver.delivered
            if d.payload["type"] == "order.created" and d.payload["data"]["source"] == source
        ]

    await wait_for(lambda: bool(found()), timeout_s=15, what=f"an order.created from a {source}")
    return found()[0]


async def test_claim_and_buy_with_a_voucher_bid_and_win_enter_a_giveaway(
    site: Cluster, browser: Browser, receiver: Receiver
) -> None:
    room = await site.room(title="Formats")
    item = await product(site, room, title="Oolong 100 g", price_cents=1800)
    flash = await sale(site, room, item["id"], quantity=5, per_user_limit=1, price_cents=990)
    offer = await voucher(site, room, title="Welcome", discount_cents=300)
    page = await open_page(
        browser, f"{site.urls[0]}/rooms/{room}#token={site.token('viewer', 'bob')}"
    )
    note = page.locator("#shop-note")

    chip = page.locator(f'.voucher[data-voucher="{offer["id"]}"]')
    await expect(chip).to_contain_text("Welcome")
    await chip.locator("button.claim").click()
    await expect(note).to_have_text("Voucher claimed: it is taken off your next buy.")
    await expect(chip.locator("button.claim")).to_have_text("Claimed")
    await page.locator(f'.sale[data-sale="{flash["id"]}"] button.buy').click()
    await expect(page.locator("#order")).to_contain_text("reserved")
    bought = await created_for(receiver, "sale")
    assert (bought["user"], bought["voucher"], bought["discount_cents"]) == (
        "bob",
        offer["id"],
        300,
    )
    assert bought["amount_cents"] == 690
    await page.reload()
    await expect(chip.locator("button.claim")).to_have_text("Claimed")  # from the server

    lot = await auction(site, room, item["id"], start_price_cents=500, duration_s=60)
    card = page.locator(f'.auction[data-auction="{lot["id"]}"]')
    await expect(card.locator("button.bid")).to_contain_text("Bid")
    await card.locator("button.bid").click()
    await expect(note).to_have_text("You are the highest bidder.")
    await expect(card.locator(".stock")).to_have_text("bob leads")
    anchor = site.token("anchor", "alice")
    status, _ = await site.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200
    await expect(note).to_have_text("You won the auction! Pay your order to get it.")
    won = await created_for(receiver, "auction")
    assert (won["user"], won["auction"], won["amount_cents"]) == ("bob", lot["id"], 500)

    prize = await giveaway(site, room, title="Tea for two", duration_s=60)
    gift = page.locator(f'.giveaway[data-giveaway="{prize["id"]}"]')
    await gift.locator("button.enter").click()
    await expect(gift.locator("button.enter")).to_have_text("Entered")
    status, _ = await site.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert status == 200
    await expect(gift.locator(".giveaway-result")).to_have_text("You won!")
    await expect(gift.locator(".giveaway-entrants")).to_have_text("1 entrant")
    free = await created_for(receiver, "giveaway")
    assert (free["user"], free["amount_cents"]) == ("bob", 0)
