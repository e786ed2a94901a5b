"""One room through every format of the next wave, through the public interface: a
product with its image, a voucher claimed and spent on a buy (then cancelled), an auction
won (its order paid), a giveaway drawn (its free order), analytics (impressions, product
views, watch time), moderation depth (automod holding a message, a report, the review
queue, the shield) and a replay with its stock and a replay buy (cancelled).

It leaves no reservation open, so the room can be deleted once its outbox is done."""

from __future__ import annotations

from typing import Any

from tests import image_samples
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.formats_helpers import auction, giveaway, voucher
from tests.integration.test_recording_replay_buy import replay_showing

MOD = ("moderator", "mia")


async def run_every_format(cluster: Cluster, room: str, buyer: str = "fred") -> None:
    """Run every format in ``room`` (anchor ``alice``) with ``buyer`` and two others."""
    anchor, backend = cluster.token("anchor", "alice"), cluster.token("backend", "shop")
    item = await product(cluster, room)
    async with cluster.http.post(
        f"{cluster.urls[0]}/api/rooms/{room}/products/{item['id']}/image",
        data=image_samples.png(),
        headers={"Content-Type": "image/png", "Authorization": f"Bearer {anchor}"},
    ) as response:
        assert response.status in (200, 201), await response.text()
    for user in (buyer, "gina"):
        got = await cluster.api(
            "POST", f"/api/rooms/{room}/impressions", cluster.token("viewer", user)
        )
        assert got[0] == 200, got
    fred = await cluster.join(room, buyer)
    gina = await cluster.join(room, "gina", node=1)
    moderator = await cluster.join(room, "mia", role="moderator")
    await fred.send({"type": "view_product", "product": item["id"]})
    await vouchers(cluster, room, item, fred)
    await auctions(cluster, room, item, fred, backend)
    await giveaways(cluster, room, item, gina)
    await moderation(cluster, room, fred, gina, moderator)
    await replays(cluster, room, item, buyer, backend)
    for client in (fred, gina, moderator):
        await client.close()


async def vouchers(cluster: Cluster, room: str, item: dict[str, Any], fred: ChannelClient) -> None:
    flash = await sale(cluster, room, item["id"], per_user_limit=5)
    offer = await voucher(cluster, room)
    anchor = cluster.token("anchor", "alice")
    pinned = await cluster.api("POST", f"/api/rooms/{room}/vouchers/{offer['id']}/pin", anchor)
    assert pinned[0] == 200, pinned
    await fred.send({"type": "claim", "voucher": offer["id"], "key": "c1"})
    claimed = await fred.wait_for("claim_result")
    assert claimed["ok"] is True, claimed
    await fred.send(
        {"type": "buy", "sale": flash["id"], "key": "v1", "voucher_claim": claimed["claim"]}
    )
    bought = await fred.wait_for(lambda f: f.get("type") == "buy_result" and f["key"] == "v1")
    assert bought["ok"] is True, bought
    backend = cluster.token("backend", "shop")
    cancelled = await cluster.api("POST", f"/api/orders/{bought['order']}/cancel", backend)
    assert cancelled[0] == 200, cancelled


async def auctions(
    cluster: Cluster, room: str, item: dict[str, Any], fred: ChannelClient, backend: str
) -> None:
    lot = await auction(cluster, room, item["id"], duration_s=600)
    await fred.send({"type": "bid", "auction": lot["id"], "amount_cents": 500, "key": "a1"})
    assert (await fred.wait_for("bid_result"))["ok"] is True
    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/rooms/{room}/auctions/{lot['id']}/end", anchor)
    assert status == 200, ended
    assert ended["order"], ended
    paid = await cluster.api("POST", f"/api/orders/{ended['order']}/paid", backend)
    assert paid[0] == 200, paid


async def giveaways(cluster: Cluster, room: str, item: dict[str, Any], gina: ChannelClient) -> None:
    prize = await giveaway(
        cluster, room, product_id=item["id"], duration_s=600, eligibility={"keyword": "tea"}
    )
    await gina.send({"type": "chat", "text": "tea please"})
    await gina.wait_for("chat")
    await gina.send({"type": "enter", "giveaway": prize["id"]})
    assert (await gina.wait_for("enter_result"))["ok"] is True
    anchor = cluster.token("anchor", "alice")
    status, ended = await cluster.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert (status, ended["winners"]) == (200, ["gina"]), ended
    await gina.wait_for("giveaway_ended", timeout_s=10)


async def moderation(
    cluster: Cluster,
    room: str,
    fred: ChannelClient,
    gina: ChannelClient,
    moderator: ChannelClient,
) -> None:
    mod = cluster.token(*MOD)
    base = f"/api/rooms/{room}/moderation"
    assert (await cluster.api("POST", f"{base}/automod", mod, {"level": 2}))[0] == 200
    await fred.send({"type": "chat", "text": "call me on 555-123-4567"})
    held = await fred.wait_for("chat_held")
    await moderator.wait_for("review")
    decided = await cluster.api("POST", f"/api/rooms/{room}/review/{held['id']}/deny", mod)
    assert decided[0] == 200, decided
    await gina.send({"type": "chat", "text": "a plain line to report"})
    line = await fred.wait_for(lambda f: f.get("text") == "a plain line to report")
    await fred.send({"type": "report", "message": line["id"], "reason": "spam"})
    assert (await fred.wait_for("report_received"))["message"] == line["id"]
    for on in (True, False):
        assert (await cluster.api("POST", f"{base}/shield", mod, {"on": on}))[0] == 200


async def replays(
    cluster: Cluster, room: str, item: dict[str, Any], buyer: str, backend: str
) -> str:
    """A finished replay whose timeline pinned ``item`` (written through the index, as the
    recorder does), and a replay buy, cancelled; the replay's id."""
    replay_id = await replay_showing(cluster, room, item)
    status, order = await cluster.api(
        "POST",
        f"/api/replays/{replay_id}/orders",
        cluster.token("viewer", buyer),
        {"product_id": item["id"], "key": "r1"},
    )
    assert status == 201, order
    cancelled = await cluster.api("POST", f"/api/orders/{order['order']}/cancel", backend)
    assert cancelled[0] == 200, cancelled
    return replay_id
