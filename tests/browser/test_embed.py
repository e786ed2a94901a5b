"""``<livecommerce-room>`` on a page of another site (issue 17, item 3): a shop served from a
second local port, under another host name, loads the SDK with one ``<script type=module>``
from the node and embeds a room with one element, which plays the live video, chats and
buys. The same page under a host name the node does not list gets no channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from livecommerce.store.embedded import EmbeddedValkey
from tests.browser.chrome import SAMPLE_SIZE, needs_chromium, open_page, publishing
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product, sale

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.timeout(120)]

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tea shop</title>
<script type="module" src="{node}/sdk/livecommerce.js"></script></head>
<body><h1>Tea shop</h1>
<livecommerce-room server="{node}" room="{room}" token="{token}"></livecommerce-room>
</body></html>"""
VIDEO_SIZE = """() => { const e = document.querySelector('livecommerce-room');
  const v = e && e.shadowRoot && e.shadowRoot.querySelector('video');
  return v ? [v.videoWidth, v.videoHeight] : null; }"""


class Shop:
    """Another site: one page embedding a room of ``node``."""

    def __init__(self) -> None:
        self.page: dict[str, str] = {}
        self.app = web.Application()
        self.app.router.add_get("/", self.serve)

    async def serve(self, request: web.Request) -> web.Response:
        # A strict shop policy: nothing inline, scripts and connections to the node only.
        node = self.page["node"]
        ws = node.replace("http://", "ws://")
        policy = (
            f"default-src 'self'; script-src 'self' {node}; style-src 'self'; "
            f"connect-src 'self' {node} {ws}; img-src 'self' http: https:; object-src 'none'"
        )
        return web.Response(
            text=SHOP_PAGE.format(**self.page),
            content_type="text/html",
            headers={"Content-Security-Policy": policy},
        )


@pytest.fixture
async def shop(aiohttp_server: ServerFactory) -> tuple[Shop, TestServer]:
    site = Shop()
    return site, await aiohttp_server(site.app)


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    shop: tuple[Shop, TestServer],
) -> AsyncIterator[Cluster]:
    """Two nodes that list the shop under the name ``localhost`` (not ``127.0.0.1``)."""
    sections: dict[str, dict[str, Any]] = {
        "media": {"loopback_candidates": True},
        "server": {"cors_origins": [f"http://localhost:{shop[1].port}"]},
    }
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections
    ):
        yield cluster


def inside(selector: str) -> str:
    return f"livecommerce-room >> {selector}"


async def wait_video(page: Page) -> None:
    """Until the element's video plays at the clip's size (polled from here: the shop's
    policy forbids the string evaluation ``wait_for_function`` would use)."""
    deadline = asyncio.get_running_loop().time() + 30
    while await page.evaluate(VIDEO_SIZE) != list(SAMPLE_SIZE):
        assert asyncio.get_running_loop().time() < deadline, await page.evaluate(VIDEO_SIZE)
        await asyncio.sleep(0.2)


async def test_a_shop_on_another_origin_embeds_a_room_that_plays_chats_and_buys(
    site: Cluster, shop: tuple[Shop, TestServer], browser: Browser
) -> None:
    pages, server = shop
    room = await site.room(title="Tea tasting")
    item = await product(site, room, title="Oolong 100 g", price_cents=1800)
    offer = await sale(site, room, item["id"], quantity=5, per_user_limit=1, price_cents=990)
    pages.page = {"node": site.urls[0], "room": room, "token": site.token("viewer", "bob")}
    watcher = await site.join(room, "watcher", node=1)
    page = await open_page(browser, f"http://localhost:{server.port}/", width=1000, height=800)
    assert await page.evaluate("location.origin") != site.urls[0]
    # The element is defined once the SDK's modules have loaded (after the page's load event).
    await page.wait_for_function("() => document.querySelector('livecommerce-room')?.shadowRoot")
    # The element's own styles apply under the shop's policy (no 'unsafe-inline').
    layout = await page.evaluate(
        "() => getComputedStyle(document.querySelector('livecommerce-room')"
        ".shadowRoot.querySelector('.wrap')).display"
    )
    assert layout == "grid"
    await page.wait_for_function(
        "() => document.querySelector('livecommerce-room')?.dataset.channel === 'open'"
    )
    async with publishing(site.http, site.urls[0], room, site.token("anchor", "alice")):
        await wait_video(page)
        await expect(page.locator(inside(".status"))).to_be_hidden()
    # Chat: the line reaches another viewer on the other node, and comes back to the page.
    await page.locator(inside("input.chat-input")).fill("Hello from the tea shop")
    await page.locator(inside("input.chat-input")).press("Enter")
    line = await watcher.wait_for(lambda f: f.get("text") == "Hello from the tea shop")
    assert line["user"] == "bob"
    await expect(page.locator(inside(".messages"))).to_contain_text("Hello from the tea shop")
    # Buy: a reservation with an order id, one unit fewer in the sale for everyone.
    card = page.locator(inside(f'.sale[data-sale="{offer["id"]}"]'))
    await expect(card.locator(".product-title")).to_have_text("Oolong 100 g")
    orders = await page.evaluate_handle(
        "() => { const seen = []; document.addEventListener('livecommerce-order',"
        " (e) => seen.push(e.detail)); return seen; }"
    )
    await card.locator("button.buy").click()
    await expect(page.locator(inside(".note"))).to_contain_text("Reserved: Oolong 100 g")
    await expect(page.locator(inside(".order"))).to_contain_text("reserved")
    detail = (await orders.json_value())[0]
    status, body = await site.api(
        "GET", f"/api/orders/{detail['order']}", site.token("viewer", "bob")
    )
    assert status == 200, body
    assert body["status"] == "reserved"
    status, body = await site.api("GET", f"/api/rooms/{room}/sales/{offer['id']}")
    assert status == 200
    assert body["left"] == 4


async def test_the_same_page_under_an_unlisted_name_gets_no_channel(
    site: Cluster, shop: tuple[Shop, TestServer], browser: Browser
) -> None:
    pages, server = shop
    room = await site.room()
    pages.page = {"node": site.urls[0], "room": room, "token": site.token("viewer", "eve")}
    # 127.0.0.1:PORT is another origin than the listed localhost:PORT.
    page = await open_page(browser, f"http://127.0.0.1:{server.port}/", width=1000, height=800)
    await page.wait_for_function(
        "() => document.querySelector('livecommerce-room')?.dataset.channel === 'closed'"
    )
    await asyncio.sleep(1.5)
    assert await page.evaluate(
        "() => document.querySelector('livecommerce-room').dataset.channel"
    ) in ("closed", "connecting")
    await expect(page.locator(inside(".messages li"))).to_have_count(0)
    await page.locator(inside("input.chat-input")).fill("sneaky")
    await page.locator(inside("input.chat-input")).press("Enter")
    watcher = await site.join(room, "watcher")
    await asyncio.sleep(0.5)
    assert [f for f in watcher.frames if f.get("type") == "chat"] == []


async def test_a_guest_is_asked_for_a_token_and_chats_once_the_page_sets_one(
    site: Cluster, shop: tuple[Shop, TestServer], browser: Browser
) -> None:
    pages, server = shop
    room = await site.room()
    pages.page = {"node": site.urls[0], "room": room, "token": ""}
    watcher = await site.join(room, "watcher", node=1)
    page = await open_page(browser, f"http://localhost:{server.port}/", width=1000, height=800)
    await page.wait_for_function(
        "() => document.querySelector('livecommerce-room')?.dataset.channel === 'open'"
    )
    asked = await page.evaluate_handle(
        "() => { const seen = []; document.addEventListener('livecommerce-signin',"
        " () => seen.push(1)); return seen; }"
    )
    await page.locator(inside("input.chat-input")).fill("hello?")
    await page.locator(inside("input.chat-input")).press("Enter")
    await expect(page.locator(inside(".note"))).to_have_text("Sign in to take part.")
    assert await asked.json_value() == [1]
    # The shop signs the visitor in: the element reconnects with the token and chats.
    states = await page.evaluate_handle(
        "() => { const seen = []; document.addEventListener('livecommerce-state',"
        " (e) => seen.push(e.detail.channel)); return seen; }"
    )
    token = site.token("viewer", "gina")
    await page.evaluate(
        f"() => document.querySelector('livecommerce-room').setAttribute('token', '{token}')"
    )
    await page.wait_for_function(
        "(s) => s.includes('connecting') && s.at(-1) === 'open'", arg=states
    )
    await page.locator(inside("input.chat-input")).fill("hello!")
    await page.locator(inside("input.chat-input")).press("Enter")
    line = await watcher.wait_for(lambda f: f.get("text") == "hello!")
    assert line["user"] == "gina"
    assert [f for f in watcher.frames if f.get("text") == "hello?"] == []
