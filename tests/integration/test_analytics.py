"""The seller's funnel through the real app on two nodes: a scripted audience whose every
step is known gives exactly its counts, totals and unique users, per-product rows, GMV,
GPM and the pin and sale markers; the CSV says the same; the report is frozen at the end."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import SETTINGS, STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, cluster_with, start_cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway, voucher

PRICE = 990


cluster = cluster_with({"analytics": {"watch_interval_s": 0.2}})


async def scripted_audience(cluster: Cluster) -> tuple[str, dict[str, Any], list[str]]:
    """40 impressions → 30 entries → 20 product views → 10 attempts → 10 reserved →
    5 paid, each by its own user, half on each node; the room, its product, the orders."""
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    item = await product(cluster, room)
    pinned = await cluster.api("POST", f"/api/rooms/{room}/pin", anchor, {"product_id": item["id"]})
    assert pinned[0] == 200, pinned
    opened = await sale(cluster, room, item["id"], price_cents=PRICE, quantity=10, per_user_limit=1)
    users = [f"u{n}" for n in range(40)]
    for n, user in enumerate(users):
        answer = await cluster.api(
            "POST", f"/api/rooms/{room}/impressions", cluster.token("viewer", user), node=n % 2
        )
        assert answer == (200, {"room": room, "counted": True}), answer
    viewers = [await cluster.join(room, user, node=n % 2) for n, user in enumerate(users[:30])]
    for viewer in viewers[:20]:
        await viewer.send({"type": "view_product", "product": item["id"]})
    orders = []
    for n, viewer in enumerate(viewers[:10]):
        await viewer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": f"k{n}"})
        answer = await viewer.wait_for("buy_result")
        assert answer["ok"] is True, answer
        orders.append(str(answer["order"]))
    for viewer in viewers:
        await viewer.sync()
        assert viewer.of_type("error") == []
    backend = cluster.token("backend", "shop")
    for order in orders[:5]:
        assert (await cluster.api("POST", f"/api/orders/{order}/paid", backend))[0] == 200
    for viewer in viewers:
        await viewer.close()
    return room, item, orders


async def test_a_scripted_audience_gives_exactly_its_funnel(cluster: Cluster) -> None:
    room, item, _ = await scripted_audience(cluster)

    status, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("anchor", "alice"), node=1
    )

    assert status == 200, report
    expected = {
        "impressions": 40,
        "entries": 30,
        "product_views": 20,
        "buy_attempts": 10,
        "reserved": 10,
        "paid": 5,
    }
    assert {step: counts["total"] for step, counts in report["funnel"].items()} == expected
    assert {step: counts["users"] for step, counts in report["funnel"].items()} == expected
    assert all(counts["users_exact"] for counts in report["funnel"].values())
    assert [c["rate"] for c in report["conversion"]] == [0.75, 0.6667, 0.5, 1.0, 0.5]
    assert report["gmv_cents"] == 5 * PRICE
    assert report["currency"] == "EUR"
    assert report["gpm_cents"] == round(5 * PRICE * 1000 / 30)
    assert report["products"] == [
        {
            "product": item["id"],
            "title": item["title"],
            "views": 20,
            "attempts": 10,
            "reserved": 10,
            "paid": 5,
            "gmv_cents": 5 * PRICE,
            "currency": "EUR",
        }
    ]
    assert [m["type"] for m in report["markers"]] == ["pin", "sale_started"]
    assert {m["product"] for m in report["markers"]} == {item["id"]}
    assert sum(row["reserved"] for row in report["orders"]) == 10
    assert sum(row["paid"] for row in report["orders"]) == 5
    assert report["frozen"] is False


async def test_a_retried_buy_key_is_one_attempt_and_a_refusal_is_one(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    opened = await sale(cluster, room, item["id"], quantity=1, per_user_limit=1)
    first, second = await cluster.join(room, "a"), await cluster.join(room, "b", node=1)
    for client, key in ((first, "x"), (first, "x"), (second, "y")):
        await client.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": key})
        await client.sync()

    _, report = await cluster.api(
        "GET", f"/api/rooms/{room}/analytics", cluster.token("admin", "root")
    )

    funnel = report["funnel"]
    assert (funnel["buy_attempts"]["total"], funnel["buy_attempts"]["users"]) == (2, 2)
    assert (funnel["reserved"]["total"], funnel["reserved"]["users"]) == (1, 1)
    assert funnel["entries"]["total"] == 2
    await first.close()
    await second.close()


async def test_the_csv_says_what_the_json_says(cluster: Cluster) -> None:
    room, item, _ = await scripted_audience(cluster)
    anchor = cluster.token("anchor", "alice")
    _, report = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)

    async with cluster.http.get(
        f"{cluster.urls[0]}/api/rooms/{room}/analytics.csv",
        headers={"Authorization": f"Bearer {anchor}"},
    ) as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert f"{room}-analytics.csv" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await response.text())))

    assert rows[0] == ["section", "name", "t", "metric", "value"]
    assert all(len(row) == 5 for row in rows)
    funnel = {(r[1], r[3]): int(r[4]) for r in rows if r[0] == "funnel"}
    for step, counts in report["funnel"].items():
        assert funnel[(step, "total")] == counts["total"]
        assert funnel[(step, "users")] == counts["users"]
    products = {r[3]: int(r[4]) for r in rows if r[0] == "product" and r[1] == item["id"]}
    assert products == {"views": 20, "attempts": 10, "reserved": 10, "paid": 5, "gmv_cents": 4950}
    summary = {r[3]: r[4] for r in rows if r[0] == "summary"}
    assert summary["gmv_cents"] == str(report["gmv_cents"])
    assert summary["gpm_cents"] == str(report["gpm_cents"])
    assert len([r for r in rows if r[0] == "retention"]) == len(report["retention"])


async def test_the_report_is_frozen_at_the_end_and_outlives_the_live_data(
    cluster: Cluster,
) -> None:
    room, _, orders = await scripted_audience(cluster)
    anchor = cluster.token("anchor", "alice")
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    # A reservation taken during the live and paid after the end still counts.
    backend = cluster.token("backend", "shop")
    assert (await cluster.api("POST", f"/api/orders/{orders[5]}/paid", backend))[0] == 200
    _, refreshed = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    assert refreshed["frozen"] is True
    assert refreshed["funnel"]["paid"]["total"] == 6

    app = cluster.apps[0]
    keys, store = Keys(app[SETTINGS].store.key_prefix), app[STORE]
    assert 0 < int(await store.pttl(keys.analytics(room))) <= 7 * 86_400_000
    assert int(await store.pttl(keys.analytics_report(room))) > 7 * 86_400_000
    await store.delete(keys.analytics(room))  # the live data's retention has passed

    _, frozen = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor, node=1)
    assert frozen["frozen"] is True
    assert frozen["funnel"] == refreshed["funnel"]
    assert frozen["gmv_cents"] == 6 * PRICE
    # Nothing is counted for an ended room.
    answer = await cluster.api("POST", f"/api/rooms/{room}/impressions")
    assert answer[0] == 409
    assert answer[1]["error"]["code"] == "room_ended"


@pytest.fixture
async def cluster_off(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"analytics": {"enabled": False, "watch_interval_s": 0.1}}
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


async def test_with_analytics_off_buying_works_and_nothing_is_counted(
    cluster_off: Cluster,
) -> None:
    cluster = cluster_off
    room = await cluster.room()
    item = await product(cluster, room)
    opened = await sale(cluster, room, item["id"])
    answer = await cluster.api("POST", f"/api/rooms/{room}/impressions")
    assert answer == (200, {"room": room, "counted": False})
    offer = await voucher(cluster, room)
    lot = await auction(cluster, room, item["id"])
    draw = await giveaway(cluster, room, product_id=item["id"])
    viewer = await cluster.join(room, "v")
    await viewer.send({"type": "view_product", "product": item["id"]})
    await viewer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": "k"})
    assert (await viewer.wait_for("buy_result"))["ok"] is True
    await viewer.send({"type": "claim", "voucher": offer["id"], "key": "c"})
    assert (await viewer.wait_for("claim_result"))["ok"] is True
    await viewer.send({"type": "bid", "auction": lot["id"], "amount_cents": 100, "key": "b"})
    assert (await viewer.wait_for("bid_result"))["ok"] is True
    await viewer.send({"type": "enter", "giveaway": draw["id"]})
    assert (await viewer.wait_for("enter_result"))["ok"] is True
    await viewer.close()
    anchor = cluster.token("anchor", "alice")
    ended = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert ended[1]["winner"] == "v", ended
    drawn = await cluster.api("POST", f"/api/giveaways/{draw['id']}/end", anchor)
    assert drawn[1]["winners"] == ["v"], drawn

    app = cluster.apps[0]
    keys, store = Keys(app[SETTINGS].store.key_prefix), app[STORE]
    assert await store.exists(keys.analytics(room), keys.room_watch(room)) == 0
    assert await store.keys(f"{keys.prefix}{{r:{room}}}:analytics*") == []
