"""Ending a room ends its sales at that moment: a running or scheduled sale is stopped at
the room's end in the same atomic step (no longer listed as active, buys refused,
reservations still payable), a sale that ended before keeps its end, and the frozen
report's markers never fall after the room's end."""

from __future__ import annotations

import time
from typing import Any

import pytest

from livecommerce.metrics import Metrics
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.web.state import SETTINGS, STORE
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale

pytestmark = pytest.mark.timeout(60)


async def get_sale(cluster: Cluster, room: str, sale_id: str) -> dict[str, Any]:
    status, body = await cluster.api("GET", f"/api/rooms/{room}/sales/{sale_id}", None, node=1)
    assert status == 200, body
    return body


async def test_ending_a_room_ends_its_sales_at_that_moment(cluster: Cluster) -> None:
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    item = await product(cluster, room)
    running = await sale(cluster, room, item["id"], duration_s=600)
    later = await sale(
        cluster, room, item["id"], starts_at=int(time.time() * 1000) + 300_000, duration_s=60
    )
    stopped = await sale(cluster, room, item["id"], duration_s=600)
    status, _ = await cluster.api("POST", f"/api/rooms/{room}/sales/{stopped['id']}/stop", anchor)
    assert status == 200
    stopped_at = (await get_sale(cluster, room, stopped["id"]))["stopped_at"]
    buyer = await cluster.join(room, "bob")
    await buyer.send({"type": "buy", "sale": running["id"], "qty": 1, "key": "k"})
    bought = await buyer.wait_for("buy_result")
    assert bought["ok"] is True, bought
    await buyer.close()

    status, ended = await cluster.api("POST", f"/api/rooms/{room}/end", anchor)

    assert status == 200, ended
    ended_at = ended["ended_at"]
    assert ended["status"] == "ended"
    assert ended["sales"] == []
    _, seen = await cluster.api("GET", f"/api/rooms/{room}", None, node=1)
    assert seen["sales"] == []
    for ended_with_room in (running, later):
        now = await get_sale(cluster, room, ended_with_room["id"])
        assert (now["status"], now["stopped_at"]) == ("ended", ended_at), now
    assert (await get_sale(cluster, room, stopped["id"]))["stopped_at"] == stopped_at < ended_at
    # Ending again changes nothing; the reservation taken during the live stays payable.
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    assert (await get_sale(cluster, room, running["id"]))["stopped_at"] == ended_at
    backend = cluster.token("backend", "shop")
    assert (await cluster.api("POST", f"/api/orders/{bought['order']}/paid", backend))[0] == 200

    _, report = await cluster.api("GET", f"/api/rooms/{room}/analytics", anchor)
    assert report["frozen"] is True
    marks = {(m["type"], m.get("sale")): m["at"] for m in report["markers"]}
    assert marks[("sale_ended", running["id"])] == ended_at
    assert marks[("sale_ended", stopped["id"])] == stopped_at
    assert ("sale_started", later["id"]) not in marks  # it never opened
    assert ("sale_ended", later["id"]) not in marks
    assert all(m["at"] <= ended_at for m in report["markers"]), report["markers"]


async def test_a_buy_after_the_end_is_refused_as_the_sale_ended(cluster: Cluster) -> None:
    anchor = cluster.token("anchor", "alice")
    room = await cluster.room()
    item = await product(cluster, room)
    running = await sale(cluster, room, item["id"], duration_s=600)
    buyer = await cluster.join(room, "bob")
    assert (await cluster.api("POST", f"/api/rooms/{room}/end", anchor))[0] == 200
    await buyer.wait_for("room_ended")

    await buyer.send({"type": "buy", "sale": running["id"], "qty": 1, "key": "late"})

    answer = await buyer.wait_for(lambda f: f["type"] in ("buy_result", "error"))
    assert (answer["type"], answer.get("ok"), answer.get("reason")) == (
        "buy_result",
        False,
        "sale_ended",
    ), answer
    sold = await get_sale(cluster, room, running["id"])
    assert (sold["left"], sold["reserved"]) == (running["left"], 0)
    await buyer.close()


async def test_the_end_script_asks_again_when_a_sale_was_created_meanwhile(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    created = await sale(cluster, room, item["id"], duration_s=600)
    keys = Keys(cluster.apps[0][SETTINGS].store.key_prefix)
    runner = ScriptRunner(cluster.apps[0][STORE], metrics=Metrics())
    now = int(time.time() * 1000)

    stale = await runner.run("rooms_end", [keys.room(room), keys.sales(room)], [now, 0])

    assert stale == -2
    assert (await get_sale(cluster, room, created["id"]))["status"] == "open"
    _, seen = await cluster.api("GET", f"/api/rooms/{room}", None)
    assert seen["status"] != "ended"
