"""The studio dashboard in a real Chromium at a phone's size: it renders the room's funnel,
timeline, retention and product table, and updates by itself when a viewer in another
browser opens the product card and buys; the home page reports the room cards it shows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.chrome import needs_chromium, open_page, publishing
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


def dashboard_url(site: Cluster, room: str, token: str) -> str:
    return f"{site.urls[0]}/studio/rooms/{room}#token={token}"


async def expect_users(page: Page, step: str, users: int) -> None:
    await expect(page.locator(f'.step[data-step="{step}"] .count')).to_have_attribute(
        "data-users", str(users), timeout=15_000
    )


async def expect_tile(page: Page, tile: str, value: str) -> None:
    await expect(page.locator(f'.tile[data-tile="{tile}"] .value')).to_have_text(
        value, timeout=15_000
    )


async def test_the_dashboard_renders_the_funnel_and_moves_when_a_browser_viewer_buys(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room(title="Oolong tasting")
    item = await product(site, room, title="Oolong 100 g")
    anchor = site.token("anchor", "alice")
    pinned = await site.api("POST", f"/api/rooms/{room}/pin", anchor, {"product_id": item["id"]})
    assert pinned[0] == 200
    offer = await sale(site, room, item["id"], quantity=5, per_user_limit=1, price_cents=990)
    # The room's card was shown to carol and dave; carol entered, bob will come by a link.
    for user in ("carol", "dave"):
        shown = await site.api("POST", f"/api/rooms/{room}/impressions", site.token("viewer", user))
        assert shown[0] == 200, shown
    onlooker = await site.join(room, "carol", node=1)

    dashboard = await open_page(browser, dashboard_url(site, room, anchor))
    errors: list[str] = []
    dashboard.on("pageerror", lambda error: errors.append(str(error)))
    dashboard.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await expect(dashboard.locator("#dash-title")).to_have_text("Oolong tasting · analytics")
    await expect(dashboard.locator(".step")).to_have_count(6)
    await expect_users(dashboard, "entries", 1)
    await expect_users(dashboard, "reserved", 0)
    await expect(dashboard.locator("#timeline svg line.marker-pin")).to_have_count(1)
    await expect(dashboard.locator("#timeline svg line.marker-sale")).to_have_count(1)
    await expect(dashboard.locator("#retention svg path.area")).to_have_count(1)
    row = dashboard.locator(f'#products tr[data-product="{item["id"]}"]')
    await expect(row.locator("td").first).to_have_text("Oolong 100 g")
    await expect(dashboard.locator("#dash-status")).to_have_text("scheduled")
    await expect_tile(dashboard, "click-through", "50.0 %")
    await expect_tile(dashboard, "direct-entries", "0")

    bob = site.token("viewer", "bob")
    buyer = await open_page(browser, f"{site.urls[0]}/rooms/{room}#token={bob}")
    card = buyer.locator(f'.sale[data-sale="{offer["id"]}"]')
    await card.locator("button.buy").click()
    await expect(buyer.locator("#order")).to_contain_text("reserved")

    await expect_users(dashboard, "entries", 2)
    await expect_users(dashboard, "product_views", 1)
    await expect_users(dashboard, "buy_attempts", 1)
    await expect_users(dashboard, "reserved", 1)
    await expect(row.locator("td.reserved")).to_have_text("1")
    await expect(dashboard.locator("#timeline svg rect.orders")).to_have_count(1)
    # Entries by a direct link are not clicks: the click-through stays a share of the
    # impressions (entries / impressions would read 100 %, more with more such viewers).
    await expect_tile(dashboard, "direct-entries", "1")
    await expect_tile(dashboard, "click-through", "50.0 %")
    entries_rate = dashboard.locator('.step[data-step="entries"] .rate')
    await expect(entries_rate).to_have_text("50.0 % of impressions")
    # The phone layout fits the screen: nothing scrolls sideways.
    overflow = await dashboard.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0
    async with dashboard.expect_download() as download_info:
        await dashboard.locator("#dash-csv").click()
    download = await download_info.value
    assert download.suggested_filename == f"{room}-analytics.csv"
    path = await download.path()
    assert path is not None
    text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
    assert text.splitlines()[0] == "section,name,t,metric,value"
    assert errors == []
    await onlooker.close()


async def test_the_dashboard_asks_for_a_token_and_refuses_another_anchor(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room()
    page = await open_page(browser, f"{site.urls[0]}/studio/rooms/{room}")
    await expect(page.locator("#dash-note")).to_contain_text("Sign in")
    other = await open_page(browser, dashboard_url(site, room, site.token("anchor", "mallory")))
    await expect(other.locator("#dash-note")).to_contain_text("Could not load the analytics")


async def test_the_home_page_reports_each_room_card_once(site: Cluster, browser: Browser) -> None:
    room = await site.room(title="Shown on the home page")
    async with publishing(site.http, site.urls[0], room, site.token("anchor", "alice")):
        page = await open_page(browser, site.urls[0] + "/")
        await expect(page.locator(f'.room-card[data-room="{room}"]')).to_have_count(1)
        admin = site.token("admin", "root")

        async def impressions() -> int:
            _, report = await site.api("GET", f"/api/rooms/{room}/analytics", admin)
            return int(report["funnel"]["impressions"]["total"])

        for _ in range(100):
            if await impressions() == 1:
                break
            await page.wait_for_timeout(100)
        assert await impressions() == 1
