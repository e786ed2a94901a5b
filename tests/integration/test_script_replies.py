"""A script answer the server cannot read is a ReplyError naming the script and what it
got — on the buy path, whether buys are batched or not — never a half-read answer."""

from __future__ import annotations

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.replies import ReplyError
from tests.security.buy_services import buy_services, open_sale

MODES = pytest.mark.parametrize("batch_buys", [True, False], ids=["batched", "unbatched"])


@MODES
async def test_a_corrupt_idempotency_record_is_a_clear_error(
    valkey: EmbeddedValkey, key_prefix: str, batch_buys: bool
) -> None:
    async with buy_services(valkey.url, key_prefix, batch_buys=batch_buys) as services:
        sale = await open_sale(services, "shop", quantity=5)
        first = await services.orders.buy("shop", sale, "alice", 1, "press-1")
        assert first.fresh
        record = services.keys.sale_idempotency("shop", sale)
        field = services.keys.idempotency_field("alice", "press-1")
        await services.client.hset(record, field, '{"ok": true}')

        with pytest.raises(ReplyError, match=r"^sales_reserve: not a buy answer: \{'ok': True\}$"):
            await services.orders.buy("shop", sale, "alice", 1, "press-1")

        # Other buyers are not affected, and the stock is what the first buy left.
        other = await services.orders.buy("shop", sale, "bob", 1, "press-1")
        assert other.fresh
        assert (await services.sales.get("shop", sale)).stock == 3
