"""The studio and its room's dashboard link to each other in a real Chromium, signed in with
the same anchor token; the dashboard shows the room's selling formats (the formats table
and their markers on the time axis)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.chrome import needs_chromium, open_page
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, giveaway, voucher

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_the_dashboard_and_the_studio_link_to_each_other(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room(title="Formats evening")
    item = await product(site, room, title="Oolong 100 g")
    offer = await voucher(site, room)
    await auction(site, room, item["id"])
    await giveaway(site, room)
    viewer = await site.join(room, "bea")
    await viewer.send({"type": "claim", "voucher": offer["id"], "key": "k"})
    assert (await viewer.wait_for("claim_result"))["ok"] is True
    anchor = site.token("anchor", "alice")

    dashboard = await open_page(browser, f"{site.urls[0]}/studio/rooms/{room}#token={anchor}")
    errors: list[str] = []
    dashboard.on("pageerror", lambda error: errors.append(str(error)))
    await expect(dashboard.locator("#dash-title")).to_have_text("Formats evening · analytics")
    claims = dashboard.locator('#formats-steps tr[data-key="voucher_claims"]')
    await expect(claims.locator("td.users")).to_have_text("1")
    await expect(dashboard.locator('#formats-sources tr[data-key="auction"]')).to_have_count(1)
    await expect(dashboard.locator(f'#formats-items tr[data-key="{offer["id"]}"]')).to_have_count(1)
    await expect(dashboard.locator("#timeline svg line.marker-voucher")).to_have_count(1)
    await expect(dashboard.locator("#timeline svg line.marker-auction")).to_have_count(1)
    await expect(dashboard.locator("#timeline svg line.marker-giveaway")).to_have_count(1)

    await dashboard.locator("#studio-link").click()
    await expect(dashboard).to_have_url(re.compile(rf"/studio\?room={room}$"))
    await expect(dashboard.locator("#studio")).to_be_visible()
    await expect(dashboard.locator("#room-select")).to_have_value(room)

    link = dashboard.locator("#dashboard-link")
    await expect(link).to_be_visible()
    await link.click()
    await expect(dashboard).to_have_url(re.compile(rf"/studio/rooms/{room}$"))
    await expect(dashboard.locator("#dash-title")).to_have_text("Formats evening · analytics")
    await expect(claims.locator("td.users")).to_have_text("1")
    assert errors == []
    await viewer.close()
