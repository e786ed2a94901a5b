"""Garbage, boundary and attacker input on the voucher, auction and giveaway routes: a clear
JSON error from the catalogue every time, role and room checks on every write."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction, giveaway, voucher

cluster = cluster_with()


VOUCHER = {"title": "3 off", "discount_cents": 300, "quantity": 10, "per_user_limit": 1}
BAD_VOUCHERS: list[tuple[dict[str, Any], str]] = [
    ({**VOUCHER, "percent_off": 10}, "invalid_field"),
    ({k: v for k, v in VOUCHER.items() if k != "discount_cents"}, "invalid_field"),
    ({**VOUCHER, "discount_cents": 0}, "invalid_field"),
    ({**VOUCHER, "discount_cents": None, "percent_off": 101}, "invalid_field"),
    ({**VOUCHER, "quantity": 0}, "invalid_field"),
    ({**VOUCHER, "quantity": 10**12}, "invalid_field"),
    ({**VOUCHER, "per_user_limit": 11}, "invalid_field"),
    ({**VOUCHER, "per_user_limit": "1"}, "invalid_field"),
    ({**VOUCHER, "min_spend_cents": -1}, "invalid_field"),
    ({**VOUCHER, "watch_s_required": 10**9}, "invalid_field"),
    ({**VOUCHER, "expires_at": 1}, "invalid_field"),
    ({**VOUCHER, "drop": "yes"}, "invalid_field"),
    ({**VOUCHER, "title": ""}, "invalid_field"),
    ({**VOUCHER, "title": "a\u202eb"}, "invalid_field"),
    ({**VOUCHER, "title": "x" * 121}, "invalid_field"),
    ({**VOUCHER, "left": 5}, "unknown_field"),
    ({k: v for k, v in VOUCHER.items() if k != "quantity"}, "missing_field"),
]
AUCTION = {"start_price_cents": 100, "duration_s": 30}
BAD_AUCTIONS: list[tuple[dict[str, Any], str]] = [
    ({**AUCTION, "start_price_cents": 0}, "invalid_field"),
    ({**AUCTION, "duration_s": 0}, "invalid_field"),
    ({**AUCTION, "duration_s": 86_401}, "invalid_field"),
    ({**AUCTION, "increment_table": []}, "invalid_field"),
    ({**AUCTION, "increment_table": [[100, 100]]}, "invalid_field"),
    ({**AUCTION, "increment_table": [[0, 0]]}, "invalid_field"),
    ({**AUCTION, "increment_table": [[0, 100], [0, 200]]}, "invalid_field"),
    ({**AUCTION, "increment_table": [[0, 100], [5000, 200], [3000, 300]]}, "invalid_field"),
    ({**AUCTION, "increment_table": [[0, True]]}, "invalid_field"),
    ({**AUCTION, "increment_table": [[0, 100, 5]]}, "invalid_field"),
    ({**AUCTION, "increment_table": "0:100"}, "invalid_field"),
    ({**AUCTION, "increment_table": [[0, 100]] * 33}, "invalid_field"),
    ({**AUCTION, "sudden_death": True, "anti_snipe_s": 10}, "invalid_field"),
    ({**AUCTION, "sudden_death": 1}, "invalid_field"),
    ({**AUCTION, "anti_snipe_s": 601}, "invalid_field"),
    ({**AUCTION, "reserve_price_cents": -1}, "invalid_field"),
    ({**AUCTION, "winner": "me"}, "unknown_field"),
]
GIVEAWAY = {"title": "Tea", "winners": 1, "duration_s": 60}
BAD_GIVEAWAYS: list[tuple[dict[str, Any], str]] = [
    ({**GIVEAWAY, "winners": 0}, "invalid_field"),
    ({**GIVEAWAY, "winners": 101}, "invalid_field"),
    ({**GIVEAWAY, "duration_s": 0}, "invalid_field"),
    ({**GIVEAWAY, "eligibility": []}, "invalid_field"),
    ({**GIVEAWAY, "eligibility": {"watch_s": -1}}, "invalid_field"),
    ({**GIVEAWAY, "eligibility": {"buyers_only": "true"}}, "invalid_field"),
    ({**GIVEAWAY, "eligibility": {"keyword": "k" * 41}}, "invalid_field"),
    ({**GIVEAWAY, "eligibility": {"keyword": "a\u0000b"}}, "invalid_field"),
    ({**GIVEAWAY, "eligibility": {"seed": "00"}}, "unknown_field"),
    ({**GIVEAWAY, "seed": "00" * 32}, "unknown_field"),
    ({**GIVEAWAY, "product_id": "p_nope"}, "product_not_found"),
]


async def post(cluster: Cluster, path: str, body: Any, token: str | None) -> tuple[int, Any]:
    return await cluster.api("POST", path, token, body)


@pytest.mark.parametrize(("body", "code"), BAD_VOUCHERS)
async def test_bad_vouchers_are_refused(cluster: Cluster, body: dict[str, Any], code: str) -> None:
    room = await cluster.room()
    status, answer = await post(
        cluster, f"/api/rooms/{room}/vouchers", body, cluster.token("anchor", "alice")
    )
    assert (status, answer["error"]["code"]) == (404 if "not_found" in code else 400, code)


@pytest.mark.parametrize(("body", "code"), BAD_AUCTIONS)
async def test_bad_auctions_are_refused(cluster: Cluster, body: dict[str, Any], code: str) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    status, answer = await post(
        cluster,
        f"/api/rooms/{room}/auctions",
        {"product_id": item["id"], **body},
        cluster.token("anchor", "alice"),
    )
    assert (status, answer["error"]["code"]) == (400, code)


@pytest.mark.parametrize(("body", "code"), BAD_GIVEAWAYS)
async def test_bad_giveaways_are_refused(cluster: Cluster, body: dict[str, Any], code: str) -> None:
    room = await cluster.room()
    status, answer = await post(
        cluster, f"/api/rooms/{room}/giveaways", body, cluster.token("anchor", "alice")
    )
    assert (status, answer["error"]["code"]) == (404 if "not_found" in code else 400, code)


async def test_only_the_rooms_anchor_creates_and_staff_end(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    item = await product(cluster, room)
    creations = {
        "vouchers": VOUCHER,
        "auctions": {**AUCTION, "product_id": item["id"]},
        "giveaways": GIVEAWAY,
    }
    for kind, body in creations.items():
        path = f"/api/rooms/{room}/{kind}"
        assert (await post(cluster, path, body, None))[0] == 401
        status, answer = await post(cluster, path, body, cluster.token("viewer", "bob"))
        assert (status, answer["error"]["code"]) == (403, "forbidden_role")
        status, answer = await post(cluster, path, body, cluster.token("anchor", "zed"))
        assert (status, answer["error"]["code"]) == (403, "not_your_room")
        scoped = cluster.token("anchor", "alice", room="another-room")
        status, answer = await post(cluster, path, body, scoped)
        assert (status, answer["error"]["code"]) == (403, "not_your_room")

    offer = await voucher(cluster, room)
    lot = await auction(cluster, room, item["id"])
    prize = await giveaway(cluster, room)
    ends = [
        f"/api/rooms/{room}/vouchers/{offer['id']}/end",
        f"/api/rooms/{room}/auctions/{lot['id']}/end",
        f"/api/giveaways/{prize['id']}/end",
    ]
    for path in ends:
        status, answer = await post(cluster, path, None, cluster.token("anchor", "zed"))
        assert (status, answer["error"]["code"]) == (403, "not_your_room"), path
        status, answer = await post(cluster, path, None, cluster.token("viewer", "bob"))
        assert (status, answer["error"]["code"]) == (403, "forbidden_role"), path
        scoped = cluster.token("moderator", "mod", room="another-room")
        status, answer = await post(cluster, path, None, scoped)
        assert (status, answer["error"]["code"]) == (403, "not_your_room"), path
        status, _ = await post(cluster, path, None, cluster.token("moderator", "mod"))
        assert status == 200, path
    for action in ("drop", "pin"):
        path = f"/api/rooms/{room}/vouchers/{offer['id']}/{action}"
        status, answer = await post(cluster, path, None, cluster.token("moderator", "mod"))
        assert (status, answer["error"]["code"]) == (403, "forbidden_role")
    status, answer = await cluster.api("GET", f"/api/rooms/{room}/claims")
    assert (status, answer["error"]["code"]) == (401, "unauthorized")
    status, answer = await cluster.api(
        "GET", f"/api/rooms/{room}/claims", cluster.token("backend", "shop")
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden_role")


@pytest.mark.parametrize(
    "path",
    [
        "/api/rooms/{room}/vouchers/v_nope",
        "/api/rooms/{room}/vouchers/v_1:users",
        "/api/rooms/{room}/vouchers/%7Br:x%7D",
        "/api/rooms/{room}/auctions/a_nope",
        "/api/rooms/{room}/auctions/a_1:keys",
        "/api/giveaways/nope",
        "/api/giveaways/{room}-gzz",
        "/api/giveaways/{room}-g00:entrants",
        "/api/giveaways/-g00",
        "/api/giveaways/{room}-g00/entrants",
    ],
)
async def test_unknown_and_crafted_ids_are_404(cluster: Cluster, path: str) -> None:
    room = await cluster.room()
    status, answer = await cluster.api("GET", path.format(room=room))
    assert status == 404
    assert answer["error"]["code"].endswith("not_found")


async def test_a_giveaway_hides_its_seed_until_drawn_and_an_ended_room_takes_no_more(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    prize = await giveaway(cluster, room)
    status, shown = await cluster.api("GET", f"/api/giveaways/{prize['id']}")
    assert status == 200
    assert shown["seed"] is None
    assert "seed" not in str({k: v for k, v in prize.items() if k != "seed"}).replace(
        "'seed': None", ""
    )
    anchor = cluster.token("anchor", "alice")
    status, _ = await post(cluster, f"/api/rooms/{room}/end", None, anchor)
    assert status == 200
    status, answer = await post(cluster, f"/api/rooms/{room}/vouchers", VOUCHER, anchor)
    assert (status, answer["error"]["code"]) == (409, "room_ended")
