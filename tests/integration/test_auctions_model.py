"""The bid script against a model of the rules, over a long random sequence of bids and
proxy maximums: every answer is the model's, so every accepted bid respects the increment
table, the proxy rules and the tie rule."""

from __future__ import annotations

import random
from dataclasses import dataclass

from livecommerce.commerce.auctions import step_above
from livecommerce.web.formats_app import AUCTIONS
from tests.integration.cluster import Cluster
from tests.integration.commerce_helpers import product
from tests.integration.formats_helpers import auction

TABLE = ((0, 100), (3000, 200), (10000, 500), (50000, 1000))
BIDS = 400


@dataclass
class Model:
    start: int
    price: int = 0
    leader: str = ""
    leader_max: int = 0

    def bid(self, user: str, amount: int, maximum: int) -> dict[str, object]:
        top = max(amount, maximum)
        if user == self.leader:
            if top <= self.leader_max:
                return {"ok": False, "leading": False, "reason": "already_leading"}
            self.leader_max = top
            return {"ok": True, "leading": True, "amount_cents": self.price}
        least = self.price + step_above(TABLE, self.price) if self.leader else self.start
        if amount < least:
            return {"ok": False, "leading": False, "reason": "bid_too_low", "min_cents": least}
        if not self.leader:
            self.price, self.leader, self.leader_max = amount, user, top
        elif top > self.leader_max:
            self.price = max(amount, min(top, self.leader_max + step_above(TABLE, self.leader_max)))
            self.leader, self.leader_max = user, top
        else:
            self.price = min(self.leader_max, top + step_above(TABLE, top))
            return {"ok": True, "leading": False, "amount_cents": self.price, "reason": "outbid"}
        return {"ok": True, "leading": True, "amount_cents": self.price}


async def test_every_answer_is_the_models(cluster: Cluster) -> None:
    room = await cluster.room()
    item = await product(cluster, room)
    lot = await auction(
        cluster,
        room,
        item["id"],
        start_price_cents=250,
        duration_s=600,
        increment_table=[list(row) for row in TABLE],
    )
    model = Model(start=250)
    rng = random.Random(14)
    services = [app[AUCTIONS] for app in cluster.apps]
    users = [f"u{n}" for n in range(6)]
    for n in range(BIDS):
        user = rng.choice(users)
        base = model.price + step_above(TABLE, model.price) if model.leader else 250
        amount = max(1, base + rng.choice([-300, -1, 0, 0, 0, 1, 150, 999, 4000]))
        maximum = amount + rng.choice([0, 0, 0, 200, 1500, 20000]) if rng.random() < 0.4 else 0
        expected = model.bid(user, amount, maximum)
        answer = await services[n % 2].bid(room, lot["id"], user, amount, maximum, f"k{n}")
        assert answer.result.to_json() == expected, (n, user, amount, maximum)
    state = await services[0].get(room, lot["id"])
    assert (state.price, state.leader) == (model.price, model.leader)
