"""The moderator console in a real Chromium: a held message appears in the queue, approving
it (keyboard shortcut) shows it on a viewer's page, denying keeps it off, and the shield
switch reaches viewers; the sender's own page marks the message as held."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.chrome import needs_chromium, open_page
from tests.integration.cluster import Cluster

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


def page_url(site: Cluster, path: str, token: str) -> str:
    return f"{site.urls[0]}{path}#token={token}"


async def test_a_held_message_appears_in_the_console_and_approving_it_shows_it_to_viewers(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room(anchor="alice")
    mod_token = site.token("moderator", "mia")
    status, body = await site.api(
        "POST", f"/api/rooms/{room}/moderation/automod", mod_token, {"level": 2}
    )
    assert status == 200, body
    console = await open_page(
        browser, page_url(site, f"/mod/rooms/{room}", mod_token), width=1400, height=900
    )
    viewer = await open_page(
        browser, page_url(site, f"/rooms/{room}", site.token("viewer", "dave"))
    )
    sender = await open_page(browser, page_url(site, f"/rooms/{room}", site.token("viewer", "bob")))
    for page in (console, viewer, sender):
        await page.wait_for_function("() => document.body.dataset.channel === 'open'")
    await expect(console.locator("#automod select[name=level]")).to_have_value("2")

    await sender.fill("#chat-input", "call me 555-123-4567")
    await sender.press("#chat-input", "Enter")
    await expect(sender.locator("#messages li.held")).to_contain_text("held for review")
    queue = console.locator("#queue li")
    await expect(queue).to_have_count(1)
    await expect(queue.first).to_contain_text("call me 555-123-4567")
    await expect(queue.first).to_contain_text("a phone number")
    await expect(console.locator("#queue-count")).to_have_text("1")

    await sender.fill("#chat-input", "cheaper on evil.com")
    await sender.press("#chat-input", "Enter")
    await expect(queue).to_have_count(2)
    await console.locator("#queue").focus()
    await console.keyboard.press("a")  # approves the first (selected) item
    await expect(viewer.locator("#messages")).to_contain_text("call me 555-123-4567")
    await expect(sender.locator("#messages li.line:not(.held)")).to_contain_text(
        "call me 555-123-4567"
    )
    await expect(queue).to_have_count(1)
    await queue.first.locator("button.review-deny").click()
    await expect(queue).to_have_count(0)
    await expect(sender.locator("#messages")).to_contain_text("did not approve")
    await expect(console.locator("#audit")).to_contain_text("deny")
    await expect(console.locator("#audit")).to_contain_text("approve")
    await expect(console.locator("#audit")).to_contain_text("automod (automod) hold")
    assert "evil.com" not in await viewer.locator("#messages").inner_text()

    await console.locator("#shield").click()
    await expect(console.locator("#shield")).to_have_attribute("aria-pressed", "true")
    await expect(viewer.locator("#messages")).to_contain_text("Shield mode is on")
    await console.locator("#shield").click()
    await expect(viewer.locator("#messages")).to_contain_text("Shield mode is off")
    await expect(console.locator("#audit")).to_contain_text("shield-off")

    await console.locator("#messages b.user", has_text="bob").first.click()
    await expect(console.locator("#user-card")).to_contain_text("bob")
    await expect(console.locator("#user-card")).to_contain_text("Past actions (4)")
