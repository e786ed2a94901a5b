"""The node tunes Python's collector before it serves: what is loaded is frozen out of
collections and young collections are rarer, so a burst does not pause for full ones."""

from __future__ import annotations

import gc

from livecommerce.server import GC_YOUNG_THRESHOLD, tune_collector


def test_serving_freezes_what_is_loaded_and_makes_young_collections_rarer() -> None:
    before = gc.get_threshold()
    try:
        tune_collector()

        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, before[1], before[2])
        assert before[0] < GC_YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
