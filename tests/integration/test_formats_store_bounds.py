"""After vouchers, auctions and giveaways run their course, every key they leave in the
store belongs to a documented family and carries its bound (see test_store_bounds.py)."""

from __future__ import annotations

from livecommerce.web.state import SETTINGS, STORE
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway, keys, set_watch, voucher
from tests.integration.test_store_bounds import (
    SELLING_FORMAT_FAMILIES,
    bound_problem,
    families,
    family_of,
    scan,
)

FORMAT_FAMILIES = {
    *SELLING_FORMAT_FAMILIES,
    "P{r:ROOM}:watch",
    "Pauctions:clock",
    "Pgiveaways:clock",
}


async def test_every_format_key_is_documented_and_bounded(cluster: Cluster) -> None:
    room = await cluster.room()
    anchor = cluster.token("anchor", "alice")
    item = await product(cluster, room)
    flash = await sale(cluster, room, item["id"], per_user_limit=5)
    offer = await voucher(cluster, room, watch_s_required=1)
    await cluster.api("POST", f"/api/rooms/{room}/vouchers/{offer['id']}/pin", anchor)
    running = await auction(cluster, room, item["id"], duration_s=600)
    closed = await auction(cluster, room, item["id"], duration_s=600)
    prize = await giveaway(cluster, room, eligibility={"keyword": "tea"})
    later = await giveaway(cluster, room, duration_s=600)
    bob = await cluster.join(room, "bob")
    await set_watch(cluster, room, "bob", 30)
    await bob.send({"type": "claim", "voucher": offer["id"], "key": "c1"})
    claim = await bob.wait_for("claim_result")
    await bob.send({"type": "buy", "sale": flash["id"], "key": "b1", "voucher_claim": "best"})
    assert (await bob.wait_for("buy_result"))["ok"] is True
    assert claim["ok"] is True
    for lot in (running, closed):
        await bob.send({"type": "bid", "auction": lot["id"], "amount_cents": 500, "key": "k"})
    await bob.wait_count("bid_result", 2)
    await cluster.api("POST", f"/api/rooms/{room}/auctions/{closed['id']}/end", anchor)
    await bob.send({"type": "chat", "text": "tea please"})
    await bob.wait_for("chat")
    for gift in (prize, later):
        await bob.send({"type": "enter", "giveaway": gift["id"]})
    await bob.wait_count("enter_result", 2)
    assert all(frame["ok"] for frame in bob.of_type("enter_result"))
    status, _ = await cluster.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert status == 200
    await bob.close()

    app = cluster.apps[0]
    settings, store = app[SETTINGS], app[STORE]
    known = families(settings.store.key_prefix)
    found = await scan(store, settings.store.key_prefix)
    assert [key for key in found if family_of(key, known) is None] == []
    problems = {}
    for key in found:
        family = family_of(key, known)
        assert family is not None
        problem = await bound_problem(store, settings, key, family)
        if problem:
            problems[key] = f"{family.key} ({family.retention}): {problem}"
    assert problems == {}
    seen = {family.key for key in found if (family := family_of(key, known))}
    assert sorted(FORMAT_FAMILIES - seen) == []
    assert keys(cluster).prefix == settings.store.key_prefix
