"""The giveaway draw: deterministic, verifiable, and unbiased (a chi-square test)."""

from __future__ import annotations

import hashlib
import math
import random

import pytest

from livecommerce.commerce import draw

ENTRANTS = [f"user{n:02d}" for n in range(21)]
DRAWS = 10_000
# A fixed vector, also in docs/formats.md: anyone's implementation must give it.
VECTOR_SEED = "00" * 31 + "2a"
VECTOR_ENTRANTS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]


def chi_square_survival_even_df(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-square variable with an even ``df`` (closed form)."""
    half = statistic / 2
    return math.exp(-half) * sum(half**i / math.factorial(i) for i in range(df // 2))


def test_the_commitment_is_sha256_of_the_seed_bytes() -> None:
    seed = draw.new_seed()
    assert len(seed) == 64
    assert draw.commitment(seed) == hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def test_the_draw_depends_only_on_the_seed_and_the_set_of_entrants() -> None:
    shuffled = random.sample(VECTOR_ENTRANTS, len(VECTOR_ENTRANTS))
    first = draw.draw(VECTOR_SEED, VECTOR_ENTRANTS, 3)
    assert draw.draw(VECTOR_SEED, shuffled + shuffled[:2], 3) == first
    assert len(set(first)) == 3
    assert draw.draw(VECTOR_SEED, VECTOR_ENTRANTS, 10) == draw.draw(VECTOR_SEED, shuffled, 7)
    assert draw.draw(VECTOR_SEED, [], 3) == []
    assert draw.draw(VECTOR_SEED, VECTOR_ENTRANTS, 3) != draw.draw("01" * 32, VECTOR_ENTRANTS, 3)


def test_the_documented_vector() -> None:
    assert draw.draw(VECTOR_SEED, VECTOR_ENTRANTS, 3) == ["dave", "frank", "erin"]


def test_verify_names_what_does_not_hold() -> None:
    seed = draw.new_seed()
    published = draw.commitment(seed)
    winners = draw.draw(seed, ENTRANTS, 2)
    assert draw.verify(seed, published, ENTRANTS, winners) == []
    assert draw.verify(draw.new_seed(), published, ENTRANTS, winners)[0].startswith("the seed")
    assert "differ" in draw.verify(seed, published, ENTRANTS, winners[::-1])[0]
    assert draw.verify(seed, published, [*ENTRANTS, ENTRANTS[0]], winners) == [
        "an entrant is listed twice"
    ]
    assert draw.verify("zz", published, ENTRANTS, winners) == ["the seed is not hex"]


@pytest.mark.parametrize("position", [0, 2])
def test_10000_draws_show_no_bias(position: int) -> None:
    """Each entrant is equally likely at each draw position: chi-square over 10,000 draws
    (21 entrants, 20 degrees of freedom), p > 0.01. The seeds are SHA-256 of a counter, as
    random as fresh ones but the same on every run, so the test cannot flake."""
    counts = dict.fromkeys(ENTRANTS, 0)
    for n in range(DRAWS):
        seed = hashlib.sha256(f"chi-square {n}".encode()).hexdigest()
        counts[draw.draw(seed, ENTRANTS, 3)[position]] += 1
    expected = DRAWS / len(ENTRANTS)
    statistic = sum((seen - expected) ** 2 / expected for seen in counts.values())
    assert chi_square_survival_even_df(statistic, len(ENTRANTS) - 1) > 0.01


def test_uniform_rejects_the_biased_tail() -> None:
    key = bytes(32)
    assert all(0 <= draw.uniform(key, i, 3) < 3 for i in range(200))
    with pytest.raises(ValueError, match="positive"):
        draw.uniform(key, 0, 0)
