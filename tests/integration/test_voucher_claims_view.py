"""`GET /api/rooms/{room}/claims` shows a claim's terms as the voucher shows them: no expiry
is null (not 0, which a client reads as 1970: expired), and of `discount_cents` and
`percent_off` the one the voucher does not use is null."""

from __future__ import annotations

from typing import Any

from tests.integration.cluster import Cluster
from tests.integration.formats_helpers import voucher


async def claims_after_claiming(cluster: Cluster, room: str, voucher_id: str) -> list[Any]:
    bob = await cluster.join(room, "bob")
    await bob.send({"type": "claim", "voucher": voucher_id, "key": f"k-{voucher_id}"})
    assert (await bob.wait_for("claim_result"))["ok"] is True
    status, answer = await cluster.api(
        "GET", f"/api/rooms/{room}/claims", cluster.token("viewer", "bob")
    )
    assert status == 200, answer
    return [c for c in answer["claims"] if c["voucher"] == voucher_id]


async def test_a_claim_without_expiry_has_a_null_expiry_and_names_its_one_discount(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    fixed = await voucher(cluster, room)
    assert (fixed["expires_at"], fixed["percent_off"]) == (None, None)

    (claim,) = await claims_after_claiming(cluster, room, fixed["id"])

    assert (claim["expires_at"], claim["percent_off"], claim["discount_cents"]) == (
        None,
        None,
        300,
    )
    assert claim["state"] == "unused"


async def test_a_percent_claim_has_a_null_fixed_discount(cluster: Cluster) -> None:
    room = await cluster.room()
    share = await voucher(cluster, room, discount_cents=None, percent_off=10)

    (claim,) = await claims_after_claiming(cluster, room, share["id"])

    assert (claim["percent_off"], claim["discount_cents"]) == (10, None)
