"""The pages work under their Content-Security-Policy: video over WebRTC, the channel's
WebSocket, REST, covers from another origin, with no violation; inline script is blocked."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from playwright.async_api import Error as PlaywrightError

from tests.browser.chrome import needs_chromium, open_page, publishing
from tests.integration.cluster import Cluster

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


async def violations(page: Page) -> list[str]:
    return list(await page.evaluate("window.__violations"))


async def open_recording(browser: Browser, url: str) -> Page:
    page = await open_page(browser, "about:blank")
    await page.context.add_init_script(RECORD_VIOLATIONS)
    await page.goto(url)
    return page


async def test_the_room_page_plays_chats_and_shows_covers_with_no_policy_violation(
    site: Cluster, browser: Browser
) -> None:
    cover = f"{site.urls[1]}/static/demo/cover.svg"  # another origin, as a CDN would be
    status, created = await site.api(
        "POST",
        "/api/rooms",
        site.token("anchor", "alice"),
        {"title": "Covered", "cover_url": cover},
    )
    assert status == 201, created
    room = created["id"]
    async with publishing(site.http, site.urls[0], room, site.token("anchor", "alice")):
        home = await open_recording(browser, f"{site.urls[0]}/")
        await home.wait_for_function(
            "() => [...document.images].some((i) => i.complete && i.naturalWidth > 0)"
        )
        token = site.token("viewer", "bob")
        page = await open_recording(browser, f"{site.urls[0]}/rooms/{room}#token={token}")
        await page.wait_for_function("() => document.body.dataset.channel === 'open'")
        await page.wait_for_function("() => document.body.dataset.player === 'playing'")
        await page.fill("#chat-input", "under the policy")
        await page.press("#chat-input", "Enter")
        await page.wait_for_function(
            "() => document.getElementById('messages').textContent.includes('under the policy')"
        )
        assert await violations(home) == []
        assert await violations(page) == []
        with pytest.raises(PlaywrightError, match=r"Content Security Policy|Refused"):
            await page.add_script_tag(content="window.__inline = true")
        assert await page.evaluate("window.__inline === undefined")
        assert any(v.startswith("script-src") for v in await violations(page))
