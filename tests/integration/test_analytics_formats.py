"""The selling formats in the seller's report, through the real app on two nodes: voucher
claims, bids and giveaway entries counted exactly under concurrent users (totals and
unique users), the orders and GMV of each source, auction and giveaway orders in the
product rows, the formats' markers, the CSV; and a room running every format whose frozen
report outlives the room's deletion by the retention sweep, still behind its role checks."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, cluster_with, start_cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway, voucher

CLAIMERS = 40
UNITS = 30
BIDDERS = 24
ENTRANTS = 30
SALE_PRICE = 990


async def room_running_every_format(cluster: Cluster) -> tuple[str, dict[str, Any]]:
    """A room with a voucher (40 concurrent claimers for 30 units, each pressing twice
    with one key), an auction (24 concurrent bidders, one bid each), a giveaway with a
    product (30 concurrent entrants, each entering twice), a flash sale buy; the auction
    ended and paid, the giveaway drawn. The room and what the test knows happened."""
    anchor = cluster.token("anchor", "alice")
    backend = cluster.token("backend", "shop")
    room = await cluster.room()
    item = await product(cluster, room)
    prize = await product(cluster, room, sku="TEA-2", title="Tea set", price_cents=5000)
    offer = await voucher(cluster, room, quantity=UNITS, per_user_limit=1)
    lot = await auction(cluster, room, item["id"], start_price_cents=100)
    draw = await giveaway(cluster, room, product_id=prize["id"])
    opened = await sale(cluster, room, item["id"], price_cents=SALE_PRICE, quantity=5)

    users = [f"u{n}" for n in range(max(CLAIMERS, BIDDERS, ENTRANTS))]
    clients = await asyncio.gather(
        *(cluster.join(room, user, node=n % 2) for n, user in enumerate(users))
    )

    async def claim_twice(client: ChannelClient, n: int) -> dict[str, Any]:
        for _ in range(2):
            await client.send({"type": "claim", "voucher": offer["id"], "key": f"press-{n}"})
        await client.wait_count("claim_result", 2, timeout_s=60)
        first, second = client.of_type("claim_result")[:2]
        assert first == second
        return first

    async def bid(client: ChannelClient, n: int) -> dict[str, Any]:
        frame = {"type": "bid", "auction": lot["id"], "amount_cents": 100 + 50 * n, "key": "b"}
        await client.send(frame)
        return await client.wait_for("bid_result", timeout_s=60)

    async def enter_twice(client: ChannelClient) -> list[dict[str, Any]]:
        for _ in range(2):
            await client.send({"type": "enter", "giveaway": draw["id"]})
        await client.wait_count("enter_result", 2, timeout_s=60)
        return client.of_type("enter_result")[:2]

    claims, bids, entries = await asyncio.gather(
        asyncio.gather(*(claim_twice(c, n) for n, c in enumerate(clients[:CLAIMERS]))),
        asyncio.gather(*(bid(c, n) for n, c in enumerate(clients[:BIDDERS]))),
        asyncio.gather(*(enter_twice(c) for c in clients[:ENTRANTS])),
    )
    buyer = clients[-1]
    await buyer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "k"})
    bought = await buyer.wait_for("buy_result")
    assert bought["ok"] is True, bought
    for client in clients:
        await client.sync()
        assert client.of_type("error") == []
        await client.close()

    status, sold = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200, sold
    assert sold["order"], sold
    status, drawn = await cluster.api("POST", f"/api/giveaways/{draw['id']}/end", anchor)
    assert status == 200, drawn
    assert len(drawn["orders"]) == 1, drawn
    for order in (sold["order"], bought["order"]):
        assert (await cluster.api("POST", f"/api/orders/{order}/paid", backend))[0] == 200
    known = {
        "item": item,
        "prize": prize,
        "claims": sum(1 for c in claims if c["ok"] is True),
        "bids": [b for b in bids if b["ok"] is True],
        "entered": sum(1 for pair in entries if pair[0]["ok"] is True),
        "price": sold["amount_cents"],
    }
    return room, known


cluster = cluster_with({"analytics": {"watch_interval_s": 0.2}})


@pytest.mark.timeout(180)
async def test_every_format_is_counted_exactly_under_concurrent_users(cluster: Cluster) -> None:
    room, known = await room_running_every_format(cluster)

    status, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("anchor", "alice"), node=1
    )

    assert status == 200, report
    formats = report["formats"]
    assert known["claims"] == UNITS
    assert formats["voucher_claims"] == {"total": UNITS, "users": UNITS, "users_exact": True}
    assert len(known["bids"]) >= 1
    bidders = len(known["bids"])
    assert formats["bids"] == {"total": bidders, "users": bidders, "users_exact": True}
    assert formats["giveaway_entries"] == {
        "total": ENTRANTS,
        "users": ENTRANTS,
        "users_exact": True,
    }
    [offer] = formats["vouchers"]
    assert (offer["quantity"], offer["claimed"], offer["claimers"]) == (UNITS, UNITS, UNITS)
    assert offer["dropped_at"] is not None
    [lot] = formats["auctions"]
    assert lot["bids"] == bidders
    assert lot["winner"]
    assert lot["order"]
    assert lot["product"] == known["item"]["id"]
    [draw] = formats["giveaways"]
    assert (draw["entrants"], draw["winners"], draw["product"]) == (
        ENTRANTS,
        1,
        known["prize"]["id"],
    )
    price = lot["price_cents"]
    assert price == known["price"]
    assert known["entered"] == ENTRANTS
    sources = {row["source"]: row for row in formats["orders"]}
    assert list(sources) == ["sale", "auction", "giveaway", "replay"]
    assert {s: (r["orders"], r["paid"], r["gmv_cents"]) for s, r in sources.items()} == {
        "sale": (1, 1, SALE_PRICE),
        "auction": (1, 1, price),
        "giveaway": (1, 1, 0),
        "replay": (0, 0, 0),
    }
    assert report["gmv_cents"] == SALE_PRICE + price
    # The funnel's buy steps are the flash sale's; the other orders are in their rows.
    assert report["funnel"]["reserved"]["total"] == 1
    assert report["funnel"]["paid"]["total"] == 1
    products = {row["product"]: row for row in report["products"]}
    item, prize = products[known["item"]["id"]], products[known["prize"]["id"]]
    assert (item["reserved"], item["paid"], item["gmv_cents"]) == (2, 2, SALE_PRICE + price)
    assert (prize["reserved"], prize["paid"], prize["gmv_cents"]) == (1, 1, 0)
    kinds = [mark["type"] for mark in report["markers"]]
    for kind in (
        "voucher_dropped",
        "auction_started",
        "auction_ended",
        "giveaway_started",
        "giveaway_ended",
        "sale_started",
    ):
        assert kind in kinds, kinds
    assert all(isinstance(mark["t"], int | float) for mark in report["markers"])

    rows = await csv_rows(cluster, room, cluster.token("anchor", "alice"))
    assert all(len(row) == 5 for row in rows)
    format_rows = {(r[1], r[3]): int(r[4]) for r in rows if r[0] == "format"}
    assert format_rows[("voucher_claims", "users")] == UNITS
    assert format_rows[("giveaway_entries", "total")] == ENTRANTS
    source_rows = {(r[1], r[3]): int(r[4]) for r in rows if r[0] == "source"}
    assert source_rows[("auction", "gmv_cents")] == price
    assert [r[3:] for r in rows if r[0] == "voucher"] == [
        ["quantity", str(UNITS)],
        ["claimed", str(UNITS)],
        ["claimers", str(UNITS)],
    ]


async def csv_rows(cluster: Cluster, room: str, token: str, node: int = 0) -> list[list[str]]:
    async with cluster.http.get(
        f"{cluster.urls[node]}/api/rooms/{room}/analytics.csv",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, await response.text()
        return list(csv.reader(io.StringIO(await response.text())))


@pytest.fixture
async def sweeping_cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections: dict[str, dict[str, Any]] = {
        "analytics": {"watch_interval_s": 0.2},
        # The sweep deletes an ended room as soon as nothing is pending.
        "rooms": {"retention_days": 1e-9, "sweep_interval_s": 0.1},
        # No endpoints: the outbox is trimmed by age alone, at once.
        "hooks": {"retention_days": 1e-9, "trim_interval_s": 0.1},
    }
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


@pytest.mark.timeout(180)
async def test_the_frozen_report_outlives_the_room_deleted_by_retention(
    sweeping_cluster: Cluster,
) -> None:
    cluster = sweeping_cluster
    room, _ = await room_running_every_format(cluster)
    anchor = cluster.token("anchor", "alice")
    _, live = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    app = cluster.apps[0]
    keys, store = Keys(app[SETTINGS].store.key_prefix), app[STORE]

    deadline = time.monotonic() + 60
    while await store.exists(keys.room(room)):
        assert time.monotonic() < deadline, "the retention sweep to delete the room"
        await asyncio.sleep(0.1)
    assert (await cluster.api("GET", f"/api/rooms/{room}"))[0] == 404
    assert await store.keys(f"{keys.prefix}{{r:{room}}}:analytics*") == []
    ttl_days = int(await store.pttl(keys.analytics_report(room))) / 86_400_000
    assert 399 < ttl_days <= 400

    status, kept = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor, node=1)
    assert status == 200, kept
    assert kept["frozen"] is True
    assert kept["status"] == "ended"
    assert kept["anchor"] == "alice"
    for part in ("funnel", "products", "gmv_cents", "gpm_cents", "peak_viewers"):
        assert kept[part] == live[part], part
    # The voucher still dropped when the room ended ended with it; nothing else moved.
    ended_at = [v["ended_at"] for v in kept["formats"]["vouchers"]]
    assert len(ended_at) == 1
    assert kept["ended_at"] - 10_000 <= ended_at[0] <= kept["ended_at"]
    for row in (*kept["formats"]["vouchers"], *live["formats"]["vouchers"]):
        row.pop("ended_at")
    assert kept["formats"] == live["formats"]
    # The sale still running when the room ended ended with it, at its end.
    ended = [m for m in kept["markers"] if m["type"] == "sale_ended"]
    assert [m["at"] for m in ended] == [kept["ended_at"]]
    assert [m["type"] for m in kept["markers"] if m not in ended] == [
        m["type"] for m in live["markers"]
    ]
    rows = await csv_rows(cluster, room, anchor, node=1)
    assert ("format", "bids") in {(r[0], r[1]) for r in rows}

    # Who may read it: the anchor it names, moderators, admins; nobody else.
    for token_of, expected in (
        (cluster.token("admin", "root"), 200),
        (cluster.token("moderator", "mia"), 200),
        (cluster.token("anchor", "alice", room=room), 200),
        (cluster.token("anchor", "bob"), 403),
        (cluster.token("anchor", "alice", room="elsewhere"), 403),
        (cluster.token("viewer", "alice"), 403),
    ):
        status, answer = await cluster.api("GET", f"/api/rooms/{room}/analytics", token_of)
        assert status == expected, (status, answer)
    status, answer = await cluster.api("GET", f"/api/rooms/{room}/analytics")
    assert status == 401, answer
    status, answer = await cluster.api("GET", "/api/rooms/never-was/analytics", anchor)
    assert (status, answer["error"]["code"]) == (404, "room_not_found")
