"""Giveaways: eligibility, one entry per user across nodes, the commit–reveal draw, the
winners' free orders and the third party's check."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io

from livecommerce.commerce import draw
from livecommerce.commerce.verify import run_giveaway_command
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import giveaway, order_events, set_watch


async def enter(client: ChannelClient, giveaway_id: str) -> dict[str, object]:
    mark = len(client.frames)
    await client.send({"type": "enter", "giveaway": giveaway_id})
    answer = await client.wait_for("enter_result", after=mark)
    answer.pop("type")
    return answer


async def test_eligibility_is_checked_and_each_user_enters_once(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"])
    rules = {"watch_s": 60, "buyers_only": True, "keyword": "Oolong"}
    bob = await cluster.join(room, "bob")
    prize = await giveaway(cluster, room, eligibility=rules)
    gid = prize["id"]
    started = await bob.wait_for("giveaway_started")
    assert started["giveaway"]["commitment"] == prize["commitment"]
    bob_elsewhere = await cluster.join(room, "bob", node=1)
    shown = bob_elsewhere.of_type("welcome")[0]["formats"]["giveaways"]
    assert [(g["id"], g["seed"]) for g in shown] == [(gid, None)]

    assert (await enter(bob, gid))["reason"] == "watch_time_short"
    await set_watch(cluster, room, "bob", 60)
    assert (await enter(bob, gid))["reason"] == "buyers_only"
    await bob.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": "b1"})
    assert (await bob.wait_for("buy_result"))["ok"] is True
    assert (await enter(bob, gid))["reason"] == "keyword_required"
    await bob.send({"type": "chat", "text": "I love oolong tea"})
    await bob.wait_for("chat")
    assert await enter(bob, gid) == {"giveaway": gid, "ok": True, "entrants": 1}
    assert await enter(bob_elsewhere, gid) == {"giveaway": gid, "ok": True, "entrants": 1}

    status, listed = await cluster.api("GET", f"/api/giveaways/{gid}/entrants")
    assert (status, listed["entrants"]) == (200, ["bob"])
    status, stats = await cluster.api(
        "GET", f"/api/rooms/{room}/stats", cluster.token("anchor", "alice")
    )
    assert (status, stats["giveaway_entries"]) == (200, 1)
    status, shown = await cluster.api("GET", f"/api/giveaways/{gid}")
    assert (shown["seed"], shown["winners"], shown["status"]) == (None, None, "open")
    carol = await cluster.join(room, "carol")
    assert (await enter(carol, "nope-g00"))["reason"] == "giveaway_not_found"


async def test_the_draw_reveals_a_seed_that_matches_and_anyone_can_check_it(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    prize = await giveaway(cluster, room, winners=3, product_id=item["id"], duration_s=60)
    assert len(prize["commitment"]) == 64
    users = [f"user{n}" for n in range(12)]
    clients = [await cluster.join(room, user, node=n % 2) for n, user in enumerate(users)]
    for client in clients:
        assert (await enter(client, prize["id"]))["ok"] is True

    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert status == 200
    assert ended["status"] == "ended"
    told = await clients[0].wait_for("giveaway_ended", timeout_s=10)
    assert hashlib.sha256(bytes.fromhex(told["seed"])).hexdigest() == prize["commitment"]
    assert (told["entrants_count"], told["entrants"]) == (len(users), sorted(users))
    assert "entrants_truncated" not in told
    assert told["winners"] == draw.draw(told["seed"], users, 3) == ended["winners"]
    assert (await enter(clients[0], prize["id"]))["reason"] == "giveaway_ended"

    events = await order_events(cluster, room)
    free = [(kind, data) for kind, data in events if data.get("giveaway") == prize["id"]]
    assert sorted(kind for kind, _ in free) == ["order.created"] * 3 + ["order.paid"] * 3
    assert {data["user"] for _, data in free} == set(told["winners"])
    assert all(
        (d["amount_cents"], d["source"], d["product_id"]) == (0, "giveaway", item["id"])
        for _, d in free
    )
    status, order = await cluster.api(
        "GET", f"/api/orders/{ended['orders'][0]}", cluster.token("backend", "shop")
    )
    assert (status, order["status"], order["amount_cents"]) == (200, "paid", 0)
    # The room's stats count the winners' orders as orders and as paid ones.
    status, stats = await cluster.api("GET", f"/api/rooms/{room}/stats", anchor)
    assert (status, stats["orders"], stats["paid_orders"]) == (200, 3, 3)

    out = io.StringIO()
    args = argparse.Namespace(giveaway=prize["id"], server=cluster.urls[1])
    assert await asyncio.to_thread(run_giveaway_command, args, out) == 0, out.getvalue()
    assert "verified" in out.getvalue()


async def test_a_giveaway_ends_on_time_by_itself(cluster: Cluster) -> None:
    room = await cluster.room()
    bob = await cluster.join(room, "bob")
    prize = await giveaway(cluster, room, duration_s=4)
    assert (await enter(bob, prize["id"]))["ok"] is True
    told = await bob.wait_for("giveaway_ended", timeout_s=30)
    assert told["winners"] == ["bob"]
    status, shown = await cluster.api("GET", f"/api/giveaways/{prize['id']}")
    assert (status, shown["winners"], shown["seed"]) == (200, ["bob"], told["seed"])


async def test_a_giveaway_nobody_entered_draws_nobody_and_still_reveals_its_seed(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    watcher = await cluster.join(room, "dave")
    prize = await giveaway(cluster, room, winners=3, duration_s=60)
    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert (status, ended["winners"], ended["orders"]) == (200, [], [])
    told = await watcher.wait_for("giveaway_ended")
    assert (told["winners"], told["entrants"], told["entrants_count"]) == ([], [], 0)
    assert draw.verify(told["seed"], prize["commitment"], [], []) == []
    status, again = await cluster.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert (status, again["seed"]) == (200, told["seed"])
    assert not [d for _, d in await order_events(cluster, room) if d.get("giveaway")]
