"""One buyer's bad call never fails another buyer's call in the same store batch.

Issue 11, item 1: a ``buy`` whose key was a lone surrogate failed the encoding of
the whole pipeline, and every honest buyer of that batch got the error.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from redis.exceptions import DataError, ResponseError

from livecommerce.commerce.orders import reserve_call
from livecommerce.config import DiscoverySettings
from livecommerce.errors import ApiError, ErrorCode
from livecommerce.store.decoding import as_text
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import ON_CLUSTER
from tests.security.buy_services import buy_services, open_sale

HONEST = 30
MASTERS = 3 if ON_CLUSTER else 1
LONE_SURROGATE = "\ud800"


@pytest.mark.parametrize("batch_buys", [True, False], ids=["batched", "unbatched"])
async def test_bad_buys_in_one_tick_fail_alone(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        sale = await open_sale(services, "shop", quantity=HONEST)
        # A room whose idempotency record is not a hash: the reserve script raises there.
        broken = await open_sale(services, "broken", quantity=10)
        await services.client.set(services.keys.sale_idempotency("broken", broken), "not a hash")
        orders = services.orders

        calls: list[tuple[str, Any]] = [
            ("honest", orders.buy("shop", sale, f"buyer{n}", 1, f"press-{n}"))
            for n in range(HONEST)
        ]
        calls += [
            ("surrogate", orders.buy("shop", sale, f"evil{n}", 1, LONE_SURROGATE + str(n)))
            for n in range(3)
        ]
        calls += [("script error", orders.buy("broken", broken, f"x{n}", 1, "k")) for n in range(3)]
        random.Random(11).shuffle(calls)
        # All in the same tick: one batch when batching is on.
        results = await asyncio.gather(*(call for _, call in calls), return_exceptions=True)
        state = await services.sales.get("shop", sale)

    by_kind: dict[str, list[Any]] = {}
    for (kind, _), result in zip(calls, results, strict=True):
        by_kind.setdefault(kind, []).append(result)
    honest = by_kind["honest"]
    assert not [r for r in honest if isinstance(r, BaseException)], honest
    assert all(answer.body["ok"] is True for answer in honest)
    assert len({answer.body["order"] for answer in honest}) == HONEST
    assert (state.stock, state.reserved) == (0, HONEST)
    for error in by_kind["surrogate"]:
        assert isinstance(error, ApiError), error
        assert error.code is ErrorCode.invalid_field
    for error in by_kind["script error"]:
        assert isinstance(error, ResponseError), error
        assert "WRONGTYPE" in str(error)


async def test_the_batcher_packs_each_call_alone(valkey: EmbeddedValkey, key_prefix: str) -> None:
    """Below the service: calls the batcher cannot send, or that the store answers with an
    error, fail their own callers; the honest reserve calls of the same tick all succeed
    and still go out as one write per master."""
    async with buy_services(valkey.url, key_prefix, batch_buys=True) as services:
        batcher = services.batcher
        assert batcher is not None
        keys, discovery = services.keys, DiscoverySettings()
        sale = await open_sale(services, "shop", quantity=HONEST)
        sent_before = batcher.pipelines_sent

        def reserve(user: str, key: str, qty: Any = 1) -> Any:
            call_keys, args = reserve_call(keys, discovery, "shop", sale, user, 1, key)
            args[3] = qty
            return batcher.script("sales_reserve", call_keys, args)

        calls: list[tuple[str, Any]] = [
            ("honest", reserve(f"buyer{n}", f"press-{n}")) for n in range(HONEST)
        ]
        calls += [("unsendable", reserve(f"evil{n}", LONE_SURROGATE)) for n in range(3)]
        calls += [("unsendable", reserve("evil", "k", qty=None))]
        calls += [("unsendable", batcher.command("SUBSCRIBE", f"{key_prefix}{{shop}}x"))]
        calls += [("unsendable", batcher.command())]
        # Lua raises: a quantity that is not a number.
        calls += [("script error", reserve(f"odd{n}", f"odd-{n}", qty="many")) for n in range(3)]
        random.Random(1).shuffle(calls)
        results = await asyncio.gather(*(call for _, call in calls), return_exceptions=True)

        by_kind: dict[str, list[Any]] = {}
        for (kind, _), result in zip(calls, results, strict=True):
            by_kind.setdefault(kind, []).append(result)
        assert [as_text(r[0]) for r in by_kind["honest"]] == ["new"] * HONEST, by_kind["honest"]
        assert all(isinstance(r, DataError) for r in by_kind["unsendable"]), by_kind["unsendable"]
        assert all(isinstance(r, ResponseError) for r in by_kind["script error"])
        # The honest calls and the failing scripts went out together: one write per master.
        assert batcher.pipelines_sent - sent_before <= MASTERS
        stock = await services.client.hget(keys.sale("shop", sale), "stock")
        assert int(stock) == 0
