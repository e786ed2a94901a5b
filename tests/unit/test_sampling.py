"""The chat sampler: on above the threshold, fair, never over the per-viewer budget, off
again below it."""

from __future__ import annotations

import random

from livecommerce.channel.presence import shown_count
from livecommerce.channel.sampling import RATE_WINDOW_S, ChatSampler, is_viewer_chat


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_below_the_threshold_every_line_is_kept() -> None:
    clock = Clock()
    sampler = ChatSampler(threshold=50, per_s=5, clock=clock)
    for _ in range(50):  # 40 lines/s: 2 lines every 50 ms
        assert sampler.choose(2) == [True, True]
        clock.now += 0.05
    assert not sampler.active


def test_above_the_threshold_no_second_holds_more_than_the_budget() -> None:
    clock = Clock()
    sampler = ChatSampler(threshold=20, per_s=7, clock=clock, rng=random.Random(1).random)
    kept_at: list[float] = []
    for _ in range(400):  # 20 s at 100 lines/s in 50 ms windows
        chosen = sampler.choose(5)
        if sampler.active:
            kept_at.extend(clock.now for keep in chosen if keep)
        clock.now += 0.05
    assert sampler.active
    for start in kept_at:
        in_window = [t for t in kept_at if start <= t < start + RATE_WINDOW_S - 1e-9]
        assert len(in_window) <= 7
    # ... and the budget is used, not starved: close to 7 a second over the run.
    assert 19 * 7 * 0.8 <= len(kept_at) <= 20 * 7


def test_the_sample_is_fair_across_a_window_and_across_a_second() -> None:
    """Each position in a window, and each window in a second, is kept about equally often:
    not the first lines that arrive."""
    clock = Clock()
    sampler = ChatSampler(threshold=20, per_s=10, clock=clock, rng=random.Random(7).random)
    by_position = [0] * 10
    by_window = [0] * 10
    for tick in range(3000):  # 300 s at 100 lines/s, windows of 10 lines every 100 ms
        for position, keep in enumerate(sampler.choose(10)):
            if keep:
                by_position[position] += 1
                by_window[tick % 10] += 1
        clock.now += 0.1
    for counts in (by_position, by_window):
        mean = sum(counts) / len(counts)
        assert all(abs(count - mean) < 0.2 * mean for count in counts), counts


def test_sampling_stops_below_the_stop_ratio_only() -> None:
    clock = Clock()
    sampler = ChatSampler(threshold=10, per_s=5, clock=clock, rng=random.Random(3).random)
    sampler.choose(20)
    assert sampler.active
    clock.now += RATE_WINDOW_S + 0.01
    sampler.choose(9)  # 9/s: under the threshold, above 80 % of it
    assert sampler.active
    clock.now += RATE_WINDOW_S + 0.01
    assert sampler.choose(3) == [True, True, True]  # 3/s: off, everything kept
    assert not sampler.active


def test_a_zero_threshold_never_samples() -> None:
    sampler = ChatSampler(threshold=0, per_s=1, clock=Clock())
    assert sampler.choose(500) == [True] * 500
    assert not sampler.active


def test_only_viewer_chat_may_be_sampled() -> None:
    assert is_viewer_chat({"type": "chat", "role": "viewer"})
    assert is_viewer_chat({"type": "chat", "role": "someone"})
    for role in ("anchor", "moderator", "admin"):
        assert not is_viewer_chat({"type": "chat", "role": role})
    assert not is_viewer_chat({"type": "sale_stock", "role": "viewer"})


def test_viewer_counts_are_exact_up_to_the_threshold_then_rounded() -> None:
    assert [shown_count(n, 1000) for n in (0, 7, 999, 1000)] == [0, 7, 999, 1000]
    assert [shown_count(n, 1000) for n in (1001, 1049, 12_345, 99_950)] == [
        1000,
        1000,
        12_000,
        100_000,
    ]
    assert shown_count(1234, 10_000) == 1234
    assert shown_count(1234, 0) == 1200
