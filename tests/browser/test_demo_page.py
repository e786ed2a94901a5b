"""On a demo server a newcomer chats and buys at once with a guest token."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.chrome import needs_chromium, open_page
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture
def demo_tokens() -> bool:
    return True


async def test_a_newcomer_chats_and_buys_at_once_as_a_guest(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room()
    item = await product(site, room)
    offer = await sale(site, room, item["id"])
    other = await site.join(room, "carol", node=1)
    try:
        page = await open_page(browser, f"{site.urls[0]}/rooms/{room}")
        await page.wait_for_function("() => document.body.dataset.channel === 'open'")
        await page.fill("#chat-input", "first time here")
        await page.press("#chat-input", "Enter")
        line = await other.wait_for(
            lambda f: f.get("type") == "chat" and f.get("text") == "first time here"
        )
        assert str(line["user"]).startswith("guest-")
        await expect(page.locator("#signin .who")).to_contain_text(str(line["user"]))
        await page.locator(f'.sale[data-sale="{offer["id"]}"] button.buy').click()
        await expect(page.locator("#shop-note")).to_contain_text("Reserved")
        await page.reload()
        await expect(page.locator("#signin .who")).to_contain_text(str(line["user"]))
    finally:
        await other.close()
