"""The full-screen console (Textual's headless pilot) against real nodes, publishing for real."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, ProgressBar, RichLog, Static

from clients.anchor.cockpit_forms import HelpScreen, ModerateScreen, StartSaleScreen
from tests import image_samples as samples
from tests.integration.cluster import Cluster
from tests.integration.cockpit_helpers import (  # noqa: F401 (fixtures)
    SCREENSHOT_ENV,
    WAIT_S,
    Cockpit,
    cockpit_fixture,
    fill,
    publish_fixture,
)

pytestmark = pytest.mark.timeout(180)
PANES = ("#status", "#chat-pane", "#products-pane", "#sale-pane", "#formats-pane", "#health")


async def test_a_live_show_run_from_the_full_screen_console(
    cluster: Cluster, cockpit: Cockpit, tmp_path: Path
) -> None:
    app, pilot = cockpit.app, cockpit.pilot
    await cockpit.until("LIVE", lambda: "LIVE" in cockpit.text("#status"))
    viewer = await cluster.join(cockpit.room, "bob", node=1)
    await cockpit.until("the viewer", lambda: "viewers 1 " in cockpit.text("#status"))

    # Add a product through the form: the SKU typed key by key, the rest filled in.
    await pilot.press("a")
    await pilot.press(*"TEA-1")
    await fill(pilot, title="Oolong 100 g", price="1800")
    products: DataTable[str] = app.query_one("#products", DataTable)
    await cockpit.until("the product", lambda: products.row_count == 1)
    assert products.get_row_at(0)[2:4] == ["Oolong 100 g", "EUR 18.00"]

    image = tmp_path / "oolong.png"
    image.write_bytes(samples.png())
    await pilot.press("g")
    await fill(pilot, path=str(image))
    await cockpit.until(
        "the image's file name", lambda: str(products.get_row_at(0)[4]).endswith(".png")
    )
    await pilot.press("p")  # pin the picked product with one key
    pinned = await viewer.wait_for("product_pinned")
    assert pinned["product"]["title"] == "Oolong 100 g"
    await cockpit.until("the pin mark", lambda: products.get_row_at(0)[0] == "PIN")

    await pilot.press("s")
    assert isinstance(app.screen, StartSaleScreen)
    await fill(pilot, price="990", quantity="5", limit="2", duration="10m")
    started = await viewer.wait_for("sale_started")
    sale_id = started["sale"]["id"]
    assert (started["sale"]["quantity"], started["sale"]["per_user_limit"]) == (5, 2)
    bar = app.query_one("#stock", ProgressBar)
    await cockpit.until("a full stock bar", lambda: (bar.total, bar.progress) == (5, 5))
    assert "ends in 9:5" in cockpit.text("#sale-numbers") or "ends in 10:00" in cockpit.text(
        "#sale-numbers"
    )

    await viewer.send({"type": "buy", "sale": sale_id, "qty": 2, "key": "k1"})
    assert (await viewer.wait_for("buy_result"))["ok"]
    await cockpit.until("the stock bar move", lambda: bar.progress == 3)
    assert "stock 3/5 left" in cockpit.text("#sale-numbers")
    feed = app.query_one("#orders", RichLog)
    await cockpit.until(
        "the reservation in the feed",
        lambda: any("2 × Oolong 100 g reserved" in line.text for line in feed.lines),
    )
    await cockpit.until("the order count", lambda: "orders 1 (0 paid)" in cockpit.text("#status"))

    # A viewer asks; the anchor picks the line and replies.
    await viewer.send({"type": "chat", "text": "is it organic?"})
    chat: DataTable[object] = app.query_one("#chat", DataTable)
    await cockpit.until("the question", lambda: chat.row_count == 1)
    await pilot.press("escape", "r")
    reply = app.query_one("#reply", Input)
    assert reply.has_focus
    assert reply.value == "@bob "
    await pilot.press(*"yes", "enter")
    answer = await viewer.wait_for(lambda f: f.get("type") == "chat" and f["user"] == "alice")
    assert answer["text"] == "@bob yes"
    await cockpit.until("the answer", lambda: chat.row_count == 2)
    assert reply.value == ""
    if path := os.environ.get(SCREENSHOT_ENV):
        await pilot.press("escape")  # the chat list, so the footer shows the keys
        await pilot.pause(0.3)
        app.save_screenshot(path)

    await pilot.press("escape", "x")  # back to the chat list (x would be typed in the box)
    ended = await viewer.wait_for("sale_ended")
    assert ended["sale"]["id"] == sale_id
    await cockpit.until("the sale ended", lambda: "[ended]" in cockpit.text("#sale-title"))
    assert cockpit.told(f"sale {sale_id} stopped")

    await pilot.press("q")
    async with asyncio.timeout(WAIT_S):
        assert await cockpit.publishing == 0
    status, room = await cluster.api("GET", f"/api/rooms/{cockpit.room}")
    assert status == 200
    assert room["status"] == "scheduled"  # quitting ended the stream
    await viewer.close()


@pytest.mark.parametrize("publish", [False])
async def test_server_refusals_are_toasts_and_chat_lines_go_to_moderation(
    cluster: Cluster, cockpit: Cockpit
) -> None:
    app, pilot = cockpit.app, cockpit.pilot
    await pilot.press("s")
    await fill(pilot, product="p_nosuchthing", price="100", quantity="1")
    await cockpit.until("the refusal", lambda: cockpit.told("product_not_found"))
    assert app.screen is app.screen_stack[0]  # the form closed, the console runs on

    await pilot.press("s")
    await fill(pilot, product="p_x", price="ten", quantity="1")
    assert "sale price must be a whole number" in str(
        app.screen.query_one("#form-error", Static).render()
    )
    await pilot.press("escape")

    viewer = await cluster.join(cockpit.room, "mallory", node=1)
    await viewer.send({"type": "chat", "text": "buy followers at spam.example"})
    chat: DataTable[object] = app.query_one("#chat", DataTable)
    await cockpit.until("the spam", lambda: chat.row_count == 1)
    await pilot.press("m")
    assert isinstance(app.screen, ModerateScreen)
    await pilot.press("enter")  # the first action: delete for everyone
    deleted = await viewer.wait_for("chat_deleted")
    await cockpit.until("the line gone", lambda: chat.row_count == 0)
    assert cockpit.told("deleted mallory's message"), deleted
    await viewer.close()


@pytest.mark.parametrize("publish", [False])
async def test_help_palette_and_resizes_keep_the_layout(cockpit: Cockpit) -> None:
    app, pilot = cockpit.app, cockpit.pilot
    await pilot.press("question_mark")
    assert isinstance(app.screen, HelpScreen)
    await pilot.press("escape")
    await pilot.press("ctrl+p")
    await pilot.press(*"Add a product")
    await pilot.press("enter")
    await pilot.pause(0.2)
    assert type(app.screen).__name__ == "AddProductScreen"
    await pilot.press("escape")

    for width, height in ((40, 12), (200, 60), (80, 24), (30, 10), (130, 40)):
        await pilot.resize_terminal(width, height)
        await pilot.pause(0.2)
        assert app.size == (width, height)
        for pane in PANES:
            region = app.query_one(pane).region
            assert region.right <= width, (pane, region)
            assert region.bottom <= height, (pane, region)
    assert app.query_one("#status").region.width == 130
    await pilot.press("question_mark")  # still answering keys after all that
    assert isinstance(app.screen, HelpScreen)
