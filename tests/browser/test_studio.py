"""The web studio in a real Chromium with a fake camera: it goes live over WHIP, a second page
plays the room over WHEP, and the studio's panes follow a buy, a chat line and the sale."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection
from playwright.async_api import Browser, Page, async_playwright, expect

from livecommerce.web.state import LIVE, ROOMS
from tests import image_samples as samples
from tests.browser.chrome import CHROMIUM, CHROMIUM_ARGS, RECORD_PEERS, needs_chromium, open_page
from tests.browser.test_room_page import frames_decoded
from tests.integration.cluster import Cluster
from tests.integration.formats_helpers import auction, voucher
from tests.integration.media_peers import accept, publisher_offer, synthetic_tracks

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(180)]
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# Set to a path (e.g. docs/studio.png) to keep the studio's screenshot.
SCREENSHOT_ENV = "LIVECOMMERCE_STUDIO_SCREENSHOT"
WAIT_MS = 30_000
# media.handover_s by default: the studio must be back well before the room would go offline.
HANDOVER_MS = 10_000


@pytest.fixture
async def camera_browser() -> AsyncIterator[Browser]:
    """Chromium whose camera and microphone are its built-in test pattern and beep."""
    assert CHROMIUM is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *FAKE_MEDIA]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_studio(browser: Browser, site: Cluster, room: str, token: str) -> Page:
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    await context.add_init_script(RECORD_PEERS)
    page = await context.new_page()
    await page.goto(f"{site.urls[0]}/studio?room={room}#token={token}")
    await expect(page.locator("#studio")).to_be_visible()
    await expect(page.locator("#room-select")).to_have_value(room)
    return page


async def room_status(site: Cluster, room: str) -> str:
    status, body = await site.api("GET", f"/api/rooms/{room}")
    assert status == 200
    return str(body["status"])


async def test_going_live_from_the_studio_and_running_a_sale(
    site: Cluster, camera_browser: Browser
) -> None:
    room = await site.room(anchor="alice", title="Studio tasting")
    studio = await open_studio(camera_browser, site, room, site.token("anchor", "alice"))
    assert "alice (anchor)" in await studio.locator("#signin").inner_text()

    await studio.click("#go-live")
    await studio.wait_for_function(
        "() => document.body.dataset.publisher === 'live'", timeout=WAIT_MS
    )
    await expect(studio.locator("#live-badge")).to_have_text("LIVE")
    assert await room_status(site, room) == "live"

    viewer_page = await open_page(camera_browser, f"{site.urls[0]}/rooms/{room}")
    assert await frames_decoded(viewer_page, at_least=10, timeout_s=30) >= 10

    await studio.fill("#product-sku", "TEA-1")
    await studio.fill("#product-title", "Oolong 100 g")
    await studio.fill("#product-price", "1800")
    await studio.click("#product-form button[type=submit]")
    product = studio.locator("#products li", has_text="Oolong 100 g")
    await expect(product).to_be_visible()
    await product.locator(".product-pin").click()
    await expect(product).to_have_attribute("data-pinned", "1")
    await expect(viewer_page.locator("#pinned")).to_contain_text("Oolong 100 g")

    async with studio.expect_file_chooser() as chooser:
        await product.locator(".product-image").click()
    image = {"name": "oolong.png", "mimeType": "image/png", "buffer": samples.png(160, 160)}
    await (await chooser.value).set_files(files=[image])
    await expect(product.locator("img")).to_have_attribute("src", re.compile(r"^/images/"))
    assert await product.locator("img").evaluate("(img) => img.naturalWidth") == 160

    buyer = await site.join(room, "bob", node=1)
    await product.locator(".product-sale").click()
    await studio.fill("#sale-price", "990")
    await studio.fill("#sale-quantity", "5")
    await studio.fill("#sale-limit", "2")
    await studio.click("#sale-form button[type=submit]")
    await expect(studio.locator("#sale-numbers")).to_contain_text("5/5 left")
    await expect(studio.locator("#sale-numbers")).to_contain_text("ends in 9:")

    started = await buyer.wait_for("sale_started")
    await buyer.send({"type": "buy", "sale": started["sale"]["id"], "qty": 2, "key": "k1"})
    assert (await buyer.wait_for("buy_result"))["ok"]
    await expect(studio.locator("#sale-numbers")).to_contain_text("3/5 left")
    assert await studio.locator("#sale-stock").evaluate("(bar) => bar.value") == 3
    await expect(studio.locator("#orders")).to_contain_text("2 × Oolong 100 g reserved")
    await expect(studio.locator("#st-orders")).to_have_text("1", timeout=WAIT_MS)
    await expect(studio.locator("#st-viewers")).not_to_have_text("0", timeout=WAIT_MS)

    await buyer.send({"type": "chat", "text": "is it organic?"})
    await expect(studio.locator("#messages")).to_contain_text("is it organic?")
    await studio.fill("#chat-input", "yes, first flush")
    await studio.press("#chat-input", "Enter")
    answer = await buyer.wait_for(lambda f: f.get("type") == "chat" and f["user"] == "alice")
    assert answer["text"] == "yes, first flush"

    if path := os.environ.get(SCREENSHOT_ENV):  # with a voucher and an auction on the board
        await voucher(site, room, quantity=50)
        bidding = await auction(site, room, started["sale"]["product_id"], duration_s=300)
        await buyer.send(
            {"type": "bid", "auction": bidding["id"], "amount_cents": 1500, "key": "b1"}
        )
        await expect(studio.locator("#formats")).to_contain_text("bob leads", timeout=WAIT_MS)
        await studio.screenshot(path=str(Path(path)), full_page=True)

    await studio.click("#sale-stop")
    ended = await buyer.wait_for("sale_ended")
    assert ended["sale"]["id"] == started["sale"]["id"]
    await expect(studio.locator("#sale-numbers")).to_contain_text("ended")

    await studio.click("#end-stream")
    await studio.wait_for_function("() => document.body.dataset.publisher === 'offline'")
    await buyer.wait_for("offline")
    assert await room_status(site, room) == "scheduled"  # the stream ended, not the room
    await buyer.close()


async def test_the_studio_asks_for_an_anchor_token(site: Cluster, browser: Browser) -> None:
    page = await open_page(browser, f"{site.urls[0]}/studio#token={site.token('viewer', 'bob')}")
    await expect(page.locator("#signin")).to_contain_text("This studio needs an anchor token")
    await expect(page.locator("#studio")).to_be_hidden()


async def test_the_studio_reconnects_when_the_stream_drops_and_the_room_stays_open(
    site: Cluster, camera_browser: Browser
) -> None:
    room = await site.room(anchor="alice")
    studio = await open_studio(camera_browser, site, room, site.token("anchor", "alice"))
    await studio.click("#go-live")
    await studio.wait_for_function(
        "() => document.body.dataset.publisher === 'live'", timeout=WAIT_MS
    )
    hub = site.apps[0][LIVE].hub
    first = hub.publications()[room]
    # The server loses the publication, as when the anchor's network goes away.
    assert await hub.end_session(first, "test: the anchor's network dropped")

    async def republished() -> bool:
        return hub.publications().get(room) not in (None, first)

    deadline = asyncio.get_running_loop().time() + 60
    while not await republished():
        assert asyncio.get_running_loop().time() < deadline, "the studio did not reconnect"
        await asyncio.sleep(0.2)
    await studio.wait_for_function(
        "() => document.body.dataset.publisher === 'live'", timeout=WAIT_MS
    )
    await expect(studio.locator("#health")).to_contain_text("Reconnecting the stream")
    assert await room_status(site, room) == "live"  # never ended

    viewer_page = await open_page(camera_browser, f"{site.urls[0]}/rooms/{room}")
    assert await frames_decoded(viewer_page, at_least=10, timeout_s=30) >= 10


async def test_the_studio_publishes_again_at_once_when_its_node_hands_the_room_over(
    site: Cluster, camera_browser: Browser
) -> None:
    """A draining node hands the room over and ends the publication (its DTLS close):
    Chrome may keep the connection 'connected' for seconds, yet the studio publishes
    again at once, well within ``media.handover_s``, and the room never goes offline."""
    room = await site.room(anchor="alice")
    studio = await open_studio(camera_browser, site, room, site.token("anchor", "alice"))
    await studio.click("#go-live")
    await studio.wait_for_function(
        "() => document.body.dataset.publisher === 'live'", timeout=WAIT_MS
    )
    hub = site.apps[0][LIVE].hub
    rooms = site.apps[0][ROOMS]
    first = hub.publications()[room]
    loop = asyncio.get_running_loop()
    began = loop.time()
    # What LiveService.hand_over does for each publication (the node itself goes on here).
    assert await rooms.hand_over(room, first, int(time.time() * 1000) + HANDOVER_MS)
    assert await hub.end_session(first, "test: the node is draining")

    while hub.publications().get(room) in (None, first):
        assert loop.time() - began < HANDOVER_MS / 1000, "the studio did not publish again"
        await asyncio.sleep(0.05)
    took = loop.time() - began
    print(f"studio handover: published again {took:.2f} s after its session ended")
    back = await rooms.get(room)
    assert back.live_session == hub.publications()[room]
    assert await room_status(site, room) == "live"


async def test_the_studio_says_the_room_is_live_from_another_source(
    site: Cluster, browser: Browser
) -> None:
    """OBS (here an aiortc peer over WHIP) is live in the room: the studio's badge says the
    room is live from another source, not OFFLINE, and OFFLINE once that stream stops."""
    room = await site.room(anchor="alice")
    studio = await open_studio(browser, site, room, site.token("anchor", "alice"))
    badge = studio.locator("#live-badge")
    await expect(badge).to_have_text("OFFLINE")
    obs = await publisher_offer(synthetic_tracks())
    headers = {
        "Content-Type": "application/sdp",
        "Authorization": f"Bearer {site.token('anchor', 'alice')}",
    }
    async with site.http.post(
        f"{site.urls[0]}/whip/{room}", data=offer_sdp(obs), headers=headers
    ) as reply:
        assert reply.status == 201, await reply.text()
        session = reply.headers["Location"]
        await accept(obs, await reply.text())
    try:
        await expect(badge).to_have_attribute("data-state", "elsewhere", timeout=WAIT_MS)
        await expect(badge).to_have_text("LIVE · OTHER SOURCE")
        await expect(studio.locator("#health")).to_contain_text("live from another source")
        reload = await open_studio(browser, site, room, site.token("anchor", "alice"))
        await expect(reload.locator("#live-badge")).to_have_attribute("data-state", "elsewhere")
        async with site.http.delete(f"{site.urls[0]}{session}", headers=headers) as reply:
            assert reply.status == 200, await reply.text()
        await expect(badge).to_have_attribute("data-state", "offline", timeout=WAIT_MS)
        await expect(badge).to_have_text("OFFLINE")
    finally:
        await obs.close()


def offer_sdp(pc: RTCPeerConnection) -> str:
    assert pc.localDescription is not None
    return pc.localDescription.sdp
