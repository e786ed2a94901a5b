"""Debian's Chromium driven by Playwright (its pip package bundles the driver; no browser
download), and an aiortc anchor publishing the sample clip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiortc import RTCPeerConnection
from playwright.async_api import Browser, Page, async_playwright

from clients.anchor.filesource import FilePacketTrack, SharedClock
from media.samples import sample_path
from tests.integration.media_peers import accept, publisher_offer

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
CHROMIUM = next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium at /usr/bin/chromium or /usr/lib/chromium/chromium "
    "(.ci/run installs Debian's chromium package)",
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
# The sample clip's size (media/samples: 640x360).
SAMPLE_SIZE = (640, 360)
# Records every RTCPeerConnection the page makes, so a test can read its stats.
RECORD_PEERS = """
window.__peers = [];
const NativePeerConnection = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(...args) { super(...args); window.__peers.push(this); }
};
"""
FRAMES_DECODED = """
async () => {
  let decoded = 0;
  for (const pc of window.__peers) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        decoded = Math.max(decoded, s.framesDecoded || 0);
      }
    });
  }
  return decoded;
}
"""


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Browser, url: str, width: int = 412, height: int = 915) -> Page:
    """A new context (its own storage: another viewer) at a phone's size."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    await context.add_init_script(RECORD_PEERS)
    page = await context.new_page()
    await page.goto(url)
    return page


@asynccontextmanager
async def publishing(
    http: aiohttp.ClientSession, base_url: str, room: str, anchor_token: str
) -> AsyncIterator[RTCPeerConnection]:
    """The anchor publishes the VP8 sample clip (no re-encoding) over WHIP while inside."""
    clock = SharedClock()
    path = sample_path("vp8")
    tracks = [FilePacketTrack(path, kind, clock) for kind in ("video", "audio")]
    pc = await publisher_offer(list(tracks))
    assert pc.localDescription is not None
    async with http.post(
        f"{base_url}/whip/{room}",
        data=pc.localDescription.sdp.encode(),
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {anchor_token}"},
    ) as response:
        assert response.status == 201, await response.text()
        await accept(pc, await response.text())
    try:
        yield pc
    finally:
        await pc.close()
        await asyncio.sleep(0)
