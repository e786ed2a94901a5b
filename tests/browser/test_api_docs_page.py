"""``/docs`` renders the OpenAPI document (Redoc) and the channel's AsyncAPI document with
the vendored renderers, under the docs pages' policy, with no violation."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.browser.chrome import needs_chromium, open_page
from tests.browser.test_page_policy import RECORD_VIOLATIONS, violations
from tests.integration.cluster import Cluster

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]


async def test_docs_render_the_http_api_and_the_channel_with_no_policy_violation(
    site: Cluster, browser: Browser
) -> None:
    page = await open_page(browser, "about:blank", width=1280, height=900)
    await page.context.add_init_script(RECORD_VIOLATIONS)
    await page.goto(f"{site.urls[0]}/docs")
    # Redoc draws one entry per operation; these summaries come from the route rows.
    await page.wait_for_function(
        "() => document.body.textContent.includes('Create a room; the caller is its anchor')",
        timeout=60_000,
    )
    assert "Trickle ICE candidates" in (await page.text_content("body") or "")
    # Redoc's sidebar asks for its maker's logo from a CDN; the policy refuses it, and
    # that is the only thing refused.
    assert set(await violations(page)) <= {f"img-src {REDOC_LOGO}"}

    await page.goto(f"{site.urls[0]}/docs/channel.html")
    # The AsyncAPI component lists every frame; buy_result and chat are two of them.
    await page.wait_for_function(
        "() => document.body.textContent.includes('buy_result')", timeout=60_000
    )
    text = await page.text_content("body") or ""
    assert "livecommerce room channel" in text
    # The component validates the document first and shows this instead when it fails.
    assert "errors in your Asyncapi document" not in text
    assert await violations(page) == []
