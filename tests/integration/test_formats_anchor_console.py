"""The anchor drops a voucher, runs an auction and a giveaway from ``livecommerce-anchor``'s
console (with ``--source none``: the console beside another publisher); viewers see each."""

from __future__ import annotations

import pytest

from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.test_anchor_console import StartAnchor, anchor_console

__all__ = ["anchor_console"]
pytestmark = pytest.mark.timeout(120)


async def test_the_console_starts_and_ends_each_format(
    cluster: Cluster, anchor_console: StartAnchor
) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    # The console only (--source none), as beside the demo's or OBS's stream.
    anchor = await anchor_console(room, "--source", "none")
    viewer = await cluster.join(room, "bob", node=1)

    mark = await anchor.type("voucher drop 3 EUR off --off 300 --qty 50 --limit 1")
    line = await anchor.wait_line("[ok] voucher v_", after=mark)
    assert "'3 EUR off': live, 50 left" in line
    voucher_id = line.split()[2]
    dropped = await viewer.wait_for("voucher_dropped")
    assert dropped["voucher"]["id"] == voucher_id
    mark = await anchor.type(f"voucher end {voucher_id}")
    await anchor.wait_line(f"[ok] voucher {voucher_id} '3 EUR off': ended", after=mark)

    mark = await anchor.type(f"auction start {item['id']} 500 --for 1m --sudden-death")
    line = await anchor.wait_line("[ok] auction a_", after=mark)
    auction_id = line.split()[2].rstrip(":")
    await viewer.wait_for("auction_started")
    await viewer.send({"type": "bid", "auction": auction_id, "amount_cents": 500, "key": "k1"})
    assert (await viewer.wait_for("bid_result"))["leading"] is True
    mark = await anchor.type(f"auction end {auction_id}")
    await anchor.wait_line(lambda s: "ended" in s and "winner bob" in s, after=mark)
    await anchor.wait_line(f"[auction] {auction_id} won by bob at 5.00")
    assert (await viewer.wait_for("auction_ended"))["winner"] == "bob"

    mark = await anchor.type("giveaway start 1 Tea for two --for 5m")
    line = await anchor.wait_line("[ok] giveaway ", after=mark)
    giveaway_id = line.split()[2].rstrip(":")
    await viewer.send({"type": "enter", "giveaway": giveaway_id})
    assert (await viewer.wait_for("enter_result"))["ok"] is True
    mark = await anchor.type(f"giveaway end {giveaway_id}")
    await anchor.wait_line(lambda s: "winners bob" in s, after=mark)
    await anchor.wait_line(f"[giveaway] {giveaway_id}: bob won, of 1 entrants")
    await anchor.type("voucher drop broken --qty 1")
    await anchor.wait_line("[error] usage: voucher drop")
    assert await anchor.quit() == 0
