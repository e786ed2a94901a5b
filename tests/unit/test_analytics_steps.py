"""The room retention sweep deletes a visitor set and a HyperLogLog per funnel step: the
store's list of steps is the funnel's."""

from __future__ import annotations

from livecommerce.analytics.funnel import Step
from livecommerce.store.keys import ANALYTICS_STEPS


def test_the_stores_funnel_steps_are_the_funnels() -> None:
    assert tuple(step.value for step in Step) == ANALYTICS_STEPS
