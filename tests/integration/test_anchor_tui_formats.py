"""Vouchers, auctions, giveaways and the orders feed in the full-screen console (Textual's
headless pilot) against real nodes: each format started from its form, seen live as
viewers claim, bid and enter, and ended from the keyboard; who reserved and who paid."""

from __future__ import annotations

import os

import pytest
from textual.widgets import DataTable, RichLog, Static

from clients.anchor.cockpit_format_forms import AuctionScreen, GiveawayScreen, VoucherScreen
from tests.integration.cluster import Cluster
from tests.integration.cockpit_helpers import (  # noqa: F401 (fixtures)
    SCREENSHOT_ENV,
    Cockpit,
    cockpit_fixture,
    fill,
    publish_fixture,
)
from tests.integration.commerce_helpers import product, sale

# Without a screenshot to take, nothing is published: the pilot waits for an idle loop.
SCREENSHOT = os.environ.get(SCREENSHOT_ENV)
pytestmark = [pytest.mark.timeout(180), pytest.mark.parametrize("publish", [bool(SCREENSHOT)])]


def rows(cockpit: Cockpit) -> list[str]:
    table: DataTable[object] = cockpit.app.query_one("#formats", DataTable)
    return [str(table.get_row_at(n)[0]) for n in range(table.row_count)]


def row_with(cockpit: Cockpit, *parts: str) -> bool:
    return any(all(part in row for part in parts) for row in rows(cockpit))


async def pick(cockpit: Cockpit, ident: str) -> None:
    """Move the formats pane's cursor to the row of ``ident`` with the arrow keys."""
    table: DataTable[object] = cockpit.app.query_one("#formats", DataTable)
    table.focus()
    await cockpit.pilot.press(*["up"] * table.row_count)
    for _ in range(table.row_count):
        if f" {ident} " in rows(cockpit)[table.cursor_row]:
            return
        await cockpit.pilot.press("down")
    raise AssertionError(f"no row for {ident}: {rows(cockpit)}")


async def test_each_format_started_seen_live_and_ended_from_the_console(
    cluster: Cluster, cockpit: Cockpit
) -> None:
    app, pilot = cockpit.app, cockpit.pilot
    item = await product(cluster, cockpit.room, title="Oolong 100 g", price_cents=1800)
    viewer = await cluster.join(cockpit.room, "bob", node=1)
    await pilot.press("u")  # refresh products: the one added over the API shows
    products: DataTable[str] = app.query_one("#products", DataTable)
    await cockpit.until("the product", lambda: products.row_count == 1)

    # Voucher: a form, a bad value said under it, then dropped; claims move its stock.
    await pilot.press("v")
    assert isinstance(app.screen, VoucherScreen)
    await fill(pilot, title="3 EUR off", off="300", percent="10", quantity="5")
    assert "either cents off or a percent" in str(
        app.screen.query_one("#form-error", Static).render()
    )
    await fill(pilot, percent="", limit="1")
    dropped = await viewer.wait_for("voucher_dropped")
    voucher = dropped["voucher"]["id"]
    await cockpit.until("the voucher", lambda: row_with(cockpit, voucher, "5/5 left", "live"))
    await viewer.send({"type": "claim", "voucher": voucher, "key": "c1"})
    assert (await viewer.wait_for("claim_result"))["ok"]
    await cockpit.until("the voucher's stock", lambda: row_with(cockpit, voucher, "4/5 left"))
    await pick(cockpit, voucher)
    await pilot.press("n")
    assert (await viewer.wait_for("voucher_pinned"))["voucher"]["id"] == voucher
    await cockpit.until("the pin", lambda: row_with(cockpit, voucher, "PINNED"))

    # Auction of the picked product: leader and amount live from the bids; end; the winner.
    await pilot.press("b")
    assert isinstance(app.screen, AuctionScreen)
    assert app.screen.value("product") == item["id"]
    await fill(pilot, start="1000", duration="5m", snipe="", sudden="y")
    started = await viewer.wait_for("auction_started")
    auction = started["auction"]["id"]
    assert started["auction"]["sudden_death"] is True
    await cockpit.until("the auction", lambda: row_with(cockpit, auction, "no bids yet"))
    await viewer.send({"type": "bid", "auction": auction, "amount_cents": 1200, "key": "b1"})
    assert (await viewer.wait_for("bid_result"))["ok"]
    await cockpit.until(
        "the leader", lambda: row_with(cockpit, auction, "bob leads at EUR 12.00", "left")
    )
    await pick(cockpit, auction)
    await pilot.press("e")
    ended = await viewer.wait_for("auction_ended")
    assert (ended["winner"], ended["amount_cents"]) == ("bob", 1200)
    await cockpit.until("the winner", lambda: row_with(cockpit, auction, "won by bob"))

    if SCREENSHOT:  # a live auction, a voucher and the feed: the docs' screenshot
        await viewer.send({"type": "chat", "text": "is the oolong first flush?"})
        await pilot.press("w")
        await fill(pilot, title="Tea for two", winners="2", duration="10m", buyers="n")
        await pilot.press("b")
        await fill(pilot, start="1000", duration="5m", snipe="10s", sudden="n")
        shown = await viewer.wait_for(
            lambda f: f.get("type") == "auction_started" and f["auction"]["id"] != auction
        )
        await viewer.send(
            {"type": "bid", "auction": shown["auction"]["id"], "amount_cents": 1500, "key": "b2"}
        )
        await cockpit.until("the bid", lambda: row_with(cockpit, "bob leads at EUR 15.00"))
        flash = await sale(cluster, cockpit.room, item["id"], price_cents=990)
        await viewer.send({"type": "buy", "sale": flash["id"], "qty": 2, "key": "k"})
        bought = await viewer.wait_for("buy_result")
        backend = cluster.token("backend", "shop")
        await cluster.api("POST", f"/api/orders/{bought['order']}/paid", backend, {})
        feed = app.query_one("#orders", RichLog)
        await cockpit.until("the payment", lambda: any("paid" in x.text for x in feed.lines))
        await pilot.press("escape")
        await pilot.pause(0.5)
        app.save_screenshot(SCREENSHOT)
        return

    # Giveaway: started, a viewer enters, ended early: the winners and the seed.
    await pilot.press("w")
    assert isinstance(app.screen, GiveawayScreen)
    await fill(pilot, title="Tea for two", winners="1", duration="10m", buyers="maybe")
    assert "buyers only: answer y or n" in str(app.screen.query_one("#form-error", Static).render())
    await fill(pilot, buyers="n")
    gstarted = await viewer.wait_for("giveaway_started")
    giveaway = gstarted["giveaway"]["id"]
    await cockpit.until("the giveaway", lambda: row_with(cockpit, giveaway, "open", "1 to win"))
    await viewer.send({"type": "enter", "giveaway": giveaway})
    assert (await viewer.wait_for("enter_result"))["ok"]
    await pick(cockpit, giveaway)
    await pilot.press("e")
    drawn = await viewer.wait_for("giveaway_ended", timeout_s=15)
    await cockpit.until(
        "the winners and the seed",
        lambda: row_with(cockpit, giveaway, "won by bob of 1 entrants", drawn["seed"]),
    )
    assert cockpit.told(f"giveaway {giveaway}")
    feed = app.query_one("#orders", RichLog)
    assert any(f"{giveaway}: bob won" in line.text for line in feed.lines)

    # A refusal from the server is a toast; the console runs on.
    await pilot.press("b")
    await fill(pilot, product="p_nosuchthing", start="100")
    await cockpit.until("the refusal", lambda: cockpit.told("product_not_found"))
    assert app.screen is app.screen_stack[0]
    await viewer.close()


async def test_the_orders_feed_says_who_reserved_and_who_paid(
    cluster: Cluster, cockpit: Cockpit
) -> None:
    app, pilot = cockpit.app, cockpit.pilot
    item = await product(cluster, cockpit.room, title="Oolong 100 g")
    flash = await sale(cluster, cockpit.room, item["id"], price_cents=990)
    await pilot.press("u")
    buyers = [await cluster.join(cockpit.room, name, node=1) for name in ("bob", "mia")]
    for n, buyer in enumerate(buyers):
        await buyer.send({"type": "buy", "sale": flash["id"], "qty": n + 1, "key": "k"})
    answers = [await buyer.wait_for("buy_result") for buyer in buyers]
    assert all(answer["ok"] for answer in answers)
    status, _ = await cluster.api(
        "POST", f"/api/orders/{answers[1]['order']}/paid", cluster.token("backend", "shop"), {}
    )
    assert status == 200
    feed = app.query_one("#orders", RichLog)

    def shown(text: str) -> bool:
        return any(text in line.text for line in feed.lines)

    await cockpit.until("bob's reservation", lambda: shown("bob: 1 × Oolong 100 g reserved"))
    await cockpit.until("mia's reservation", lambda: shown("mia: 2 × Oolong 100 g reserved"))
    await cockpit.until("mia's payment", lambda: shown("mia: 2 × Oolong 100 g paid · EUR 19.80"))
    for buyer in buyers:
        await buyer.close()
