"""The web studio's vouchers, auctions and giveaways and its orders feed, in a real Chromium:
each format started from its form, seen live as viewers claim, bid and enter, and ended;
who reserved and who paid, by name."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.chrome import needs_chromium
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(180)]
WAIT_MS = 30_000


async def open_studio(browser: Browser, site: Cluster, room: str) -> Page:
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    await page.goto(f"{site.urls[0]}/studio?room={room}#token={site.token('anchor', 'alice')}")
    await expect(page.locator("#studio")).to_be_visible()
    await expect(page.locator("#room-select")).to_have_value(room)
    return page


async def test_each_format_started_seen_live_and_ended_from_the_studio(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room(anchor="alice", title="Studio formats")
    item = await product(site, room, title="Oolong 100 g", price_cents=1800)
    studio = await open_studio(browser, site, room)
    viewer = await site.join(room, "bob", node=1)
    board = studio.locator("#formats")

    # Voucher: a refusal from the server is said; then dropped, claimed, pinned, ended.
    await studio.click("#voucher-open")
    await studio.fill("#voucher-title", "3 EUR off")
    await studio.fill("#voucher-quantity", "5")
    await studio.click("#voucher-form button[type=submit]")
    await expect(studio.locator("#shop-note")).to_have_attribute("data-kind", "bad")
    await studio.fill("#voucher-off", "300")
    await studio.click("#voucher-form button[type=submit]")
    voucher = (await viewer.wait_for("voucher_dropped"))["voucher"]["id"]
    row = board.locator(f"li[data-id='{voucher}']")
    await expect(row).to_contain_text("5/5 left")
    await viewer.send({"type": "claim", "voucher": voucher, "key": "c1"})
    assert (await viewer.wait_for("claim_result"))["ok"]
    await expect(row).to_contain_text("4/5 left", timeout=WAIT_MS)
    await row.locator(".format-pin").click()
    assert (await viewer.wait_for("voucher_pinned"))["voucher"]["id"] == voucher
    await expect(row).to_have_attribute("data-pinned", "1")
    await row.locator(".format-end").click()
    await viewer.wait_for("voucher_ended")
    await expect(row).to_have_attribute("data-status", "ended")

    # Auction from the product's row: leader, amount and countdown live; ended; the winner.
    await (
        studio.locator("#products li", has_text="Oolong 100 g").locator(".product-auction").click()
    )
    await expect(studio.locator("#auction-product")).to_have_value(item["id"])
    await studio.fill("#auction-seconds", "300")
    await studio.click("#auction-form button[type=submit]")
    auction = (await viewer.wait_for("auction_started"))["auction"]["id"]
    row = board.locator(f"li[data-id='{auction}']")
    await expect(row).to_contain_text("no bids yet")
    await viewer.send({"type": "bid", "auction": auction, "amount_cents": 2000, "key": "b1"})
    assert (await viewer.wait_for("bid_result"))["ok"]
    await expect(row).to_contain_text("bob leads at €20.00", timeout=WAIT_MS)
    await expect(row).to_contain_text(" left")
    await row.locator(".format-end").click()
    ended = await viewer.wait_for("auction_ended")
    assert ended["winner"] == "bob"
    await expect(row).to_contain_text("won by bob at €20.00")

    # Giveaway: started, entered, ended early: the winners and the seed.
    await studio.click("#giveaway-open")
    await studio.fill("#giveaway-title", "Tea for two")
    await studio.fill("#giveaway-minutes", "10")
    await studio.click("#giveaway-form button[type=submit]")
    giveaway = (await viewer.wait_for("giveaway_started"))["giveaway"]["id"]
    row = board.locator(f"li[data-id='{giveaway}']")
    await expect(row).to_contain_text("1 to win")
    await viewer.send({"type": "enter", "giveaway": giveaway})
    assert (await viewer.wait_for("enter_result"))["ok"]
    await row.locator(".format-end").click()
    drawn = await viewer.wait_for("giveaway_ended", timeout_s=15)
    await expect(row).to_contain_text(f"won by bob of 1 entrants · seed {drawn['seed']}")
    await expect(studio.locator("#orders")).to_contain_text("Giveaway: bob won, of 1 entrants")
    await viewer.close()


async def test_the_orders_pane_says_who_reserved_and_who_paid(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room(anchor="alice", title="Studio orders")
    item = await product(site, room, title="Oolong 100 g")
    flash = await sale(site, room, item["id"], price_cents=990)
    studio = await open_studio(browser, site, room)
    await expect(studio.locator("#products")).to_contain_text("Oolong 100 g")
    buyers = [await site.join(room, name, node=1) for name in ("bob", "mia")]
    for n, buyer in enumerate(buyers):
        await buyer.send({"type": "buy", "sale": flash["id"], "qty": n + 1, "key": "k"})
    answers = [await buyer.wait_for("buy_result") for buyer in buyers]
    assert all(answer["ok"] for answer in answers)
    status, _ = await site.api(
        "POST", f"/api/orders/{answers[1]['order']}/paid", site.token("backend", "shop"), {}
    )
    assert status == 200
    orders = studio.locator("#orders")
    await expect(orders).to_contain_text("bob: 1 × Oolong 100 g reserved · €9.90")
    await expect(orders).to_contain_text("mia: 2 × Oolong 100 g reserved · €19.80")
    await expect(orders).to_contain_text("mia: 2 × Oolong 100 g paid · €19.80")
    for buyer in buyers:
        await buyer.close()
