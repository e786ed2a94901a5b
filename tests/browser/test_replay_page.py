"""Replays and live HLS in a real Chromium: seeking, product cards at their time, a buy
that reaches the webhook receiver, and the live room over HLS when WebRTC is off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiortc import RTCPeerConnection
from playwright.async_api import Browser, Page

from clients.anchor.filesource import FilePacketTrack, SharedClock
from media.samples import sample_path
from tests.browser.chrome import needs_chromium
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.media_peers import accept, publisher_offer, wait_for
from tests.integration.webhook_receiver import Receiver

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(180)]
NO_WEBRTC = "delete window.RTCPeerConnection; window.RTCPeerConnection = undefined;"


@asynccontextmanager
async def publishing_h264(
    http: aiohttp.ClientSession, base_url: str, room: str, anchor_token: str
) -> AsyncIterator[RTCPeerConnection]:
    """The anchor publishes the H.264 sample clip (packets as they are) over WHIP."""
    clock = SharedClock()
    path = sample_path("h264")
    tracks = [FilePacketTrack(path, kind, clock) for kind in ("video", "audio")]
    pc = await publisher_offer(list(tracks), "video/h264")
    assert pc.localDescription is not None
    async with http.post(
        f"{base_url}/whip/{room}",
        data=pc.localDescription.sdp.encode(),
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {anchor_token}"},
    ) as response:
        assert response.status == 201, await response.text()
        location = response.headers["Location"]
        await accept(pc, await response.text())
    try:
        yield pc
    finally:
        async with http.delete(
            base_url + location, headers={"Authorization": f"Bearer {anchor_token}"}
        ):
            pass
        await pc.close()


async def new_page(browser: Browser, url: str, *init_scripts: str) -> Page:
    context = await browser.new_context(viewport={"width": 412, "height": 915})
    for script in init_scripts:
        await context.add_init_script(script)
    page = await context.new_page()
    await page.goto(url)
    return page


async def pin(site: Cluster, room: str, product_id: str) -> None:
    status, body = await site.api(
        "POST", f"/api/rooms/{room}/pin", site.token("anchor", "alice"), {"product_id": product_id}
    )
    assert status == 200, body


async def ready_replay(site: Cluster, room: str) -> dict[str, Any]:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        _, answer = await site.api("GET", f"/api/rooms/{room}/replays")
        if answer and answer[0]["status"] == "ready":
            replay: dict[str, Any] = answer[0]
            return replay
        await asyncio.sleep(0.3)
    raise AssertionError("the replay did not become ready")


async def current_time(page: Page) -> float:
    return float(await page.evaluate("() => document.getElementById('video').currentTime"))


async def test_a_replay_seeks_shows_products_at_their_time_and_a_buy_reaches_the_webhook(
    site: Cluster, browser: Browser, receiver: Receiver
) -> None:
    room = await site.room(title="Tea replay")
    first = await product(site, room, title="Oolong 100 g")
    second = await product(site, room, sku="TEA-2", title="Sencha 50 g")
    async with publishing_h264(site.http, site.urls[0], room, site.token("anchor", "alice")):
        await asyncio.sleep(2.0)
        await pin(site, room, first["id"])
        await asyncio.sleep(7.0)
        await pin(site, room, second["id"])
        await asyncio.sleep(5.0)
    replay = await ready_replay(site, room)
    detail = (await site.api("GET", f"/api/replays/{replay['id']}"))[1]
    pins = [e for e in detail["timeline"] if e["type"] == "product_pinned"]
    assert [p["product"]["id"] for p in pins] == [first["id"], second["id"]]
    between = (pins[0]["t"] + pins[1]["t"]) / 2

    viewer = site.token("viewer", "bob")
    page = await new_page(browser, f"{site.urls[0]}/replays/{replay['id']}#token={viewer}")
    await page.wait_for_function("() => document.body.dataset.player === 'playing'", timeout=30_000)

    # Seek into the middle: it plays from there, and the first product's card shows.
    await page.evaluate("(t) => { document.getElementById('video').currentTime = t; }", between)
    await page.wait_for_function(
        "(t) => document.getElementById('video').currentTime > t",
        arg=between + 1.0,
        timeout=20_000,
    )
    await page.wait_for_function(
        "(id) => document.body.dataset.product === id", arg=first["id"], timeout=10_000
    )
    assert await page.locator("#pinned .product-title").inner_text() == "Oolong 100 g"

    # Past the second pin, the second card.
    target = min(pins[1]["t"] + 1.0, replay["duration_s"] - 1.0)
    await page.evaluate("(t) => { document.getElementById('video').currentTime = t; }", target)
    await page.wait_for_function(
        "(id) => document.body.dataset.product === id", arg=second["id"], timeout=10_000
    )

    await page.locator("#pinned button.buy").click()
    await page.wait_for_function("() => !!document.body.dataset.order", timeout=10_000)
    order = await page.evaluate("() => document.body.dataset.order")

    def created() -> list[dict[str, Any]]:
        return [d.payload for d in receiver.delivered if d.payload["type"] == "order.created"]

    await wait_for(lambda: len(created()) == 1, 15.0, "order.created at the webhook receiver")
    data = created()[0]["data"]
    assert data["id"] == order
    assert data["source"] == "replay"
    assert data["product_id"] == second["id"]
    assert data["unit_price_cents"] == second["price_cents"]


async def test_the_live_room_plays_over_hls_when_webrtc_is_off(
    site: Cluster, browser: Browser
) -> None:
    room = await site.room(title="HLS fallback")
    async with publishing_h264(site.http, site.urls[0], room, site.token("anchor", "alice")):

        async def has_hls() -> bool:
            _, state = await site.api("GET", f"/api/rooms/{room}")
            return bool(state.get("hls_url"))

        deadline = time.monotonic() + 30
        while not await has_hls():
            assert time.monotonic() < deadline, "no hls_url"
            await asyncio.sleep(0.3)
        page = await new_page(browser, f"{site.urls[0]}/rooms/{room}", NO_WEBRTC)
        await page.wait_for_function(
            "() => document.body.dataset.hls === 'playing'", timeout=40_000
        )
        note = page.locator("#hls-note")
        assert "HLS" in await note.inner_text()
        assert await note.is_visible()
        before = await current_time(page)
        await asyncio.sleep(3.0)
        assert await current_time(page) > before + 1.0  # it keeps playing
        # The page says how far behind the live it plays (from EXT-X-PROGRAM-DATE-TIME).
        await page.wait_for_function("() => !!document.body.dataset.hlsDelay", timeout=10_000)
        delay = float(await page.evaluate("() => document.body.dataset.hlsDelay"))
        assert delay >= 0
        assert "behind" in await note.inner_text()
        print(f"live HLS in Chromium: {delay:.2f} s behind the frames' arrival at the server")
