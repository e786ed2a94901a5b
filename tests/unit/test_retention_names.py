"""The room retention sweep names keys other services build (it may not import them):
the funnel's and the formats' steps (a visitor set and a HyperLogLog each) and the replay
stock's sale id."""

from __future__ import annotations

from livecommerce.analytics.formats import FORMAT_STEPS
from livecommerce.analytics.funnel import Step
from livecommerce.replays.shop import STOCK_PREFIX
from livecommerce.rooms.retention import REPLAY_STOCK_PREFIX
from livecommerce.store.keys import ANALYTICS_STEPS


def test_the_stores_funnel_steps_are_the_funnels_and_the_formats() -> None:
    assert (*(step.value for step in Step), *FORMAT_STEPS) == ANALYTICS_STEPS


def test_the_sweep_names_the_replay_stock_as_the_replay_shop_does() -> None:
    assert REPLAY_STOCK_PREFIX == STOCK_PREFIX
