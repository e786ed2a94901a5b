"""What a reservation costs the store, in commands run inside ``sales_reserve.lua``
(``INFO commandstats``): counting it for analytics adds one command for a buyer who holds
units of the sale already, and at most three for a first reservation (the attempt's
visitor: a look at which structure holds the visitors, then the set or the HyperLogLog)."""

from __future__ import annotations

import pytest

from livecommerce.commerce.orders import reserve_call
from livecommerce.config import DiscoverySettings
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.replies import ReserveReply
from tests.conftest import ON_CLUSTER
from tests.security.buy_services import BuyServices, buy_services, open_sale

pytestmark = pytest.mark.skipif(ON_CLUSTER, reason="commandstats of one store process")
# What the test itself sends around the script call, not counted.
NOT_COUNTED = {"cmdstat_evalsha", "cmdstat_config|resetstat", "cmdstat_info"}
# One engagement slot a day: a slot's first count (which also trims the old slots) never
# falls between the calls compared.
ONE_SLOT = DiscoverySettings(window_s=86_400, buckets=1)


async def commands_of_one_reserve(
    services: BuyServices, room: str, sale: str, user: str, key: str, analytics: int | None
) -> int:
    """Commands the store ran for one reservation (new or refused)."""
    call = reserve_call(services.keys, ONE_SLOT, room, sale, user, 1, key, analytics=analytics)
    await services.client.config_resetstat()
    reply = await services.scripts.call(ReserveReply, *call)
    stats = await services.client.info("commandstats")
    assert reply.answer.ok, reply
    return sum(int(row["calls"]) for name, row in stats.items() if name not in NOT_COUNTED)


async def test_analytics_adds_one_command_to_a_holders_reservation(
    valkey: EmbeddedValkey, key_prefix: str
) -> None:
    async with buy_services(valkey.url, key_prefix, batch_buys=False) as services:
        sale = await open_sale(services, "shop", quantity=100, per_user_limit=100)
        await commands_of_one_reserve(services, "shop", sale, "w", "k0", None)  # opens the slot

        first_off = await commands_of_one_reserve(services, "shop", sale, "a", "k1", None)
        first_on = await commands_of_one_reserve(services, "shop", sale, "b", "k2", 1000)
        again_off = await commands_of_one_reserve(services, "shop", sale, "a", "k3", None)
        again_on = await commands_of_one_reserve(services, "shop", sale, "b", "k4", 1000)

    assert again_on - again_off == 1  # the product's reservations in the slot
    # + which structure holds the visitors, the visitor added, the set's size checked
    assert first_on - first_off == 4
    assert again_off == first_off
