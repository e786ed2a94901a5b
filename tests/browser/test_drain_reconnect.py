"""The room page when its node drains: the channel closes with 4503, the page reconnects
at once (no backoff) and resumes the chat from the last line it saw."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from livecommerce.app import DRAIN_CLOSE_REASON
from livecommerce.errors import ErrorCode
from livecommerce.web.state import HUB
from tests.browser.chrome import needs_chromium, open_page
from tests.integration.cluster import Cluster

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_the_page_reconnects_at_once_after_a_drain_and_misses_no_line(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room()
    page = await open_page(
        browser, f"{site.urls[0]}/rooms/{room}#token={site.token('viewer', 'bob')}"
    )
    other = await site.join(room, "carol", node=1)
    try:
        await page.wait_for_function("() => document.body.dataset.channel === 'open'")
        await other.send({"type": "chat", "text": "before the drain"})
        await expect(page.locator("#messages li.line").last).to_contain_text("before the drain")

        code = ErrorCode.shutting_down.spec.close_code
        await site.apps[0][HUB].close_sessions(code, DRAIN_CLOSE_REASON)
        await other.send({"type": "chat", "text": "while the page was away"})
        await page.wait_for_function(
            "() => document.body.dataset.channel !== 'open'", timeout=5_000
        )
        await page.wait_for_function(
            "() => document.body.dataset.channel === 'open'", timeout=10_000
        )
        lines = page.locator("#messages li.line", has_text="while the page was away")
        await expect(lines).to_have_count(1)  # resumed, and shown once
    finally:
        await other.close()
