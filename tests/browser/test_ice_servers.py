"""The page uses the ICE servers the WHEP endpoint announces (RFC 9725 Link headers)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser

from tests.browser.chrome import open_page
from tests.integration.cluster import Cluster

pytestmark = pytest.mark.browser


@pytest.fixture
def ice_servers() -> list[dict[str, Any]]:
    return [
        {"urls": ["stun:127.0.0.1:3478"]},
        {"urls": "turn:127.0.0.1:3479?transport=udp", "username": "ann", "credential": "s3cret"},
    ]


async def test_the_player_configures_the_announced_ice_servers(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room()
    page = await open_page(browser, f"{site.urls[0]}/rooms/{room}")
    await page.wait_for_function("() => window.__peers.length > 0")
    configured = await page.evaluate(
        "() => window.__peers[0].getConfiguration().iceServers"
        ".map((s) => ({urls: [].concat(s.urls), username: s.username, credential: s.credential}))"
    )
    assert configured == [
        {"urls": ["stun:127.0.0.1:3478"], "username": "", "credential": ""},
        {"urls": ["turn:127.0.0.1:3479?transport=udp"], "username": "ann", "credential": "s3cret"},
    ]
