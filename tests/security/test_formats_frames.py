"""Garbage and boundary ``claim``, ``bid``, ``enter`` and ``buy {voucher_claim}`` frames: each
gets an ``error`` frame (or a refusal) to its sender, the socket stays, and the store is
never asked about ids the server could not have made."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, giveaway, voucher

cluster = cluster_with()


BAD_FRAMES: list[tuple[dict[str, Any], str]] = [
    ({"type": "claim", "key": "k"}, "missing_field"),
    ({"type": "claim", "voucher": "v_1"}, "missing_field"),
    ({"type": "claim", "voucher": 7, "key": "k"}, "invalid_field"),
    ({"type": "claim", "voucher": "", "key": "k"}, "invalid_field"),
    ({"type": "claim", "voucher": "v_1", "key": "x" * 129}, "invalid_field"),
    ({"type": "claim", "voucher": "v_1", "key": "a\u202eb"}, "invalid_field"),
    ({"type": "claim", "voucher": ["v_1"], "key": "k"}, "invalid_field"),
    ({"type": "bid", "auction": "a_1", "key": "k"}, "missing_field"),
    ({"type": "bid", "auction": "a_1", "amount_cents": 0, "key": "k"}, "invalid_field"),
    ({"type": "bid", "auction": "a_1", "amount_cents": -5, "key": "k"}, "invalid_field"),
    ({"type": "bid", "auction": "a_1", "amount_cents": True, "key": "k"}, "invalid_field"),
    ({"type": "bid", "auction": "a_1", "amount_cents": 1.5, "key": "k"}, "invalid_field"),
    ({"type": "bid", "auction": "a_1", "amount_cents": "100", "key": "k"}, "invalid_field"),
    ({"type": "bid", "auction": "a_1", "amount_cents": 10**10 + 1, "key": "k"}, "invalid_field"),
    (
        {"type": "bid", "auction": "a_1", "amount_cents": 500, "max_cents": 400, "key": "k"},
        "invalid_field",
    ),
    (
        {"type": "bid", "auction": "a_1", "amount_cents": 500, "max_cents": 0, "key": "k"},
        "invalid_field",
    ),
    ({"type": "bid", "auction": None, "amount_cents": 100, "key": "k"}, "missing_field"),
    ({"type": "enter"}, "missing_field"),
    ({"type": "enter", "giveaway": {"id": "x"}}, "invalid_field"),
    ({"type": "enter", "giveaway": "\x00"}, "invalid_field"),
    ({"type": "enter", "giveaway": "g_1", "key": 7}, "invalid_field"),
    ({"type": "enter", "giveaway": "g_1", "key": ""}, "invalid_field"),
    ({"type": "enter", "giveaway": "g_1", "key": "k" * 129}, "invalid_field"),
    ({"type": "enter", "giveaway": "g_1", "key": "k\n"}, "invalid_field"),
    ({"type": "buy", "sale": "s_1", "key": "k", "voucher_claim": 3}, "invalid_field"),
    ({"type": "buy", "sale": "s_1", "key": "k", "voucher_claim": ""}, "invalid_field"),
    ({"type": "buy", "sale": "s_1", "key": "k", "voucher_claim": "c" * 129}, "invalid_field"),
]


@pytest.mark.parametrize(
    ("frame", "code"), BAD_FRAMES, ids=[f"{f['type']}-{n}" for n, (f, _) in enumerate(BAD_FRAMES)]
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays(
    cluster: Cluster, frame: dict[str, Any], code: str
) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "mallory", wire="json")
    neighbour = await cluster.join(room, "bob", wire="json")
    mark = len(client.frames)
    await client.ws.send_str(json.dumps(frame))
    error = await client.wait_for("error", after=mark)
    assert error["code"] == code, error
    await client.sync()
    await neighbour.sync()
    assert client.close_code is None
    assert neighbour.close_code is None


async def test_anonymous_viewers_may_not_claim_bid_or_enter(cluster: Cluster) -> None:
    room = await cluster.room()
    anonymous = await cluster.join(room)
    for frame in (
        {"type": "claim", "voucher": "v_1", "key": "k1"},
        {"type": "bid", "auction": "a_1", "amount_cents": 100, "key": "k2"},
        {"type": "enter", "giveaway": f"{room}-g00"},
        {"type": "enter", "giveaway": f"{room}-g00", "key": "k3"},
    ):
        mark = len(anonymous.frames)
        await anonymous.send(frame)
        error = await anonymous.wait_for("error", after=mark)
        assert error["code"] == "sign_in_required"
        assert error.get("key") == frame.get("key")


async def test_ids_that_could_name_other_keys_are_not_found(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    offer = await voucher(cluster, room)
    lot = await auction(cluster, room, item["id"])
    prize = await giveaway(cluster, room)
    other = await cluster.room(anchor="zed")
    elsewhere = await giveaway(cluster, other, anchor="zed")
    mallory = await cluster.join(room, "mallory")
    probes = [
        ({"type": "claim", "voucher": f"{offer['id']}:users", "key": "a"}, "claim_result"),
        ({"type": "claim", "voucher": "{r:x}", "key": "b"}, "claim_result"),
        ({"type": "bid", "auction": f"{lot['id']}:keys", "amount_cents": 100, "key": "c"}, "bid"),
        ({"type": "enter", "giveaway": f"{prize['id']}:entrants"}, "enter_result"),
        ({"type": "enter", "giveaway": elsewhere["id"]}, "enter_result"),
        ({"type": "enter", "giveaway": prize["id"][:-1] + "Z"}, "enter_result"),
    ]
    for frame, kind in probes:
        mark = len(mallory.frames)
        await mallory.send(frame)
        answer = await mallory.wait_for(
            "bid_result" if kind == "bid" else kind, timeout_s=5, after=mark
        )
        assert answer["ok"] is False
        assert answer["reason"].endswith("_not_found"), answer
    # A giveaway of another room is not entered through this room's channel.
    status, listed = await cluster.api("GET", f"/api/giveaways/{elsewhere['id']}/entrants")
    assert (status, listed["entrants"]) == (200, [])


async def test_banned_users_are_refused_by_every_format(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    offer = await voucher(cluster, room)
    lot = await auction(cluster, room, item["id"])
    prize = await giveaway(cluster, room)
    mallory = await cluster.join(room, "mallory")
    status, _ = await cluster.api(
        "POST",
        f"/api/rooms/{room}/moderation/ban",
        cluster.token("moderator", "mod"),
        {"user": "mallory"},
    )
    assert status == 200
    again = await cluster.join(room, "mallory2")  # a neighbour is not touched
    await again.sync()
    await mallory.wait_closed(timeout_s=10)
    # The ban holds in the scripts too, whatever a socket still open elsewhere sends.
    from livecommerce.web.formats_app import AUCTIONS, GIVEAWAYS, VOUCHERS

    app = cluster.apps[1]
    assert (await app[VOUCHERS].claim(room, offer["id"], "mallory", "k")).result.reason == "banned"
    bid = await app[AUCTIONS].bid(room, lot["id"], "mallory", 100, 0, "k")
    assert bid.result.reason == "banned"
    assert (await app[GIVEAWAYS].enter(room, prize["id"], "mallory")).outcome.value == "banned"
