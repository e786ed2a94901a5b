"""An idempotency key answers one buyer's one buy on one sale, and nothing else.

Issue 11, item 14: a key reused on a different sale got the first sale's order
back, so the buyer never got the second sale's goods (and a client that reuses
keys across sales could not buy at all).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from livecommerce.commerce.orders import OrderService
from livecommerce.store.embedded import EmbeddedValkey
from tests.security.buy_services import buy_services, open_sale

MODES = pytest.mark.parametrize("batch_buys", [True, False], ids=["batched", "unbatched"])


async def sale_of(orders: OrderService, order_id: str) -> str:
    return (await orders.get(order_id)).sale


@MODES
async def test_the_same_key_on_two_sales_makes_two_orders(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        orders = services.orders
        first = await open_sale(services, "shop", quantity=5)
        second = await open_sale(services, "shop", quantity=5)

        on_first = await orders.buy("shop", first, "alice", 1, "press-1")
        on_second = await orders.buy("shop", second, "alice", 1, "press-1")
        assert on_first.fresh
        assert on_second.fresh
        assert on_first.body["order"] != on_second.body["order"]
        assert await sale_of(orders, on_first.body["order"]) == first
        assert await sale_of(orders, on_second.body["order"]) == second

        # Retried on the same sale, the key gets its own sale's order again.
        again = await orders.buy("shop", second, "alice", 1, "press-1")
        assert not again.fresh
        assert again.body == on_second.body
        state = await services.sales.get("shop", second)
        assert (state.stock, state.reserved) == (4, 1)


@MODES
async def test_two_users_with_the_same_key_get_two_orders(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        orders = services.orders
        sale = await open_sale(services, "shop", quantity=5)
        alice = await orders.buy("shop", sale, "alice", 1, "k")
        bob = await orders.buy("shop", sale, "bob", 1, "k")
        assert alice.fresh
        assert bob.fresh
        assert alice.body["order"] != bob.body["order"]
        assert (await services.sales.get("shop", sale)).reserved == 2


@MODES
async def test_no_user_and_key_pair_spells_another_pairs_record(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    """User ``alice|k`` with key ``x`` and user ``alice`` with key ``k|x`` are two buyers'
    two keys, though ``user|key`` would read ``alice|k|x`` for both."""
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        orders = services.orders
        sale = await open_sale(services, "shop", quantity=5)
        piped = await orders.buy("shop", sale, "alice|k", 1, "x")
        split = await orders.buy("shop", sale, "alice", 1, "k|x")
        assert piped.fresh
        assert split.fresh
        assert piped.body["order"] != split.body["order"]
        assert (await services.sales.get("shop", sale)).reserved == 2


@MODES
async def test_a_sold_out_sale_does_not_answer_with_another_sales_order(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    """The sold-out shortcut (one read of the buyer's record instead of the script)
    reads the record of the sale asked for."""
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        orders = services.orders
        first = await open_sale(services, "shop", quantity=1)
        second = await open_sale(services, "shop", quantity=1)
        won = await orders.buy("shop", first, "alice", 1, "k")
        assert (await orders.buy("shop", second, "bob", 1, "b")).fresh
        # Both sales are now remembered as sold out.
        assert (await orders.buy("shop", first, "carol", 1, "c")).body["reason"] == "sold_out"
        assert (await orders.buy("shop", second, "carol", 1, "c")).body["reason"] == "sold_out"

        assert (await orders.buy("shop", first, "alice", 1, "k")).body == won.body
        other = await orders.buy("shop", second, "alice", 1, "k")
        assert other.body == {"ok": False, "reason": "sold_out"}


@MODES
async def test_concurrent_retries_of_one_key_make_one_order(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    """40 buyers each send their key 10 times at once for 25 units (limit 3 each): every
    retry of a key gets that key's first answer, the stock is exact and no order is
    made twice."""
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        orders = services.orders
        sale = await open_sale(services, "shop", quantity=25, per_user_limit=3)
        other_sale = await open_sale(services, "shop", quantity=100, per_user_limit=3)
        presses = [(f"buyer{n}", f"press-{n}") for n in range(40) for _ in range(10)]
        # The same keys at the same time on another sale: orders of their own.
        presses_elsewhere = [(f"buyer{n}", f"press-{n}") for n in range(40)]
        answers, elsewhere = await asyncio.gather(
            asyncio.gather(*(orders.buy("shop", sale, u, 1, k) for u, k in presses)),
            asyncio.gather(
                *(orders.buy("shop", other_sale, u, 1, k) for u, k in presses_elsewhere)
            ),
        )
        state = await services.sales.get("shop", sale)
        other_state = await services.sales.get("shop", other_sale)

    by_key: dict[str, list[dict[str, object]]] = {}
    for (_, key), answer in zip(presses, answers, strict=True):
        by_key.setdefault(key, []).append(answer.body)
    assert all(len({repr(body) for body in bodies}) == 1 for bodies in by_key.values())
    winners = [bodies[0] for bodies in by_key.values() if bodies[0]["ok"] is True]
    assert len(winners) == 25
    assert len({body["order"] for body in winners}) == 25
    assert sum(answer.fresh for answer in answers) == 25
    assert Counter(bodies[0].get("reason") for bodies in by_key.values())[None] == 25
    assert (state.stock, state.reserved) == (0, 25)

    assert all(answer.fresh for answer in elsewhere)
    assert not {a.body["order"] for a in elsewhere} & {body["order"] for body in winners}
    assert (other_state.stock, other_state.reserved) == (60, 40)
