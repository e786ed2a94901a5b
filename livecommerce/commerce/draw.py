"""The provably fair giveaway draw (commit–reveal), in the standard library only, so a
third party can run it as it is.

- **Seed.** 32 random bytes, kept secret until the giveaway ends, then published as 64
  lowercase hex digits.
- **Commitment.** ``SHA-256(seed bytes)`` as hex, published when the giveaway is
  created: the seed cannot be changed afterwards without the commitment showing it.
- **Entrants.** The user ids of every entrant, each once, sorted by their UTF-8 bytes
  (Python's ``sorted`` on ``str`` gives that order).
- **Draw.** A partial Fisher–Yates shuffle of the sorted list driven by an HMAC-SHA256
  stream keyed by the seed: for ``i = 0 .. k-1`` (``k = min(winners, n)``), pick
  ``j = i + uniform(i, n - i)`` and swap positions ``i`` and ``j``; the winners are the
  first ``k`` positions, in draw order. ``uniform(i, m)`` reads
  ``HMAC-SHA256(seed, "i:c")`` for ``c = 0, 1, …`` (ASCII decimal), takes the first 8
  bytes as a big-endian integer ``x`` and returns ``x mod m`` for the first ``x`` below
  ``2**64 - 2**64 mod m`` (rejection sampling: no modulo bias).

``python -m livecommerce.commerce.draw SEED WINNERS < entrants.txt`` prints the winners.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys

SEED_BYTES = 32
SPACE = 1 << 64


def new_seed() -> str:
    """A fresh secret seed, as hex."""
    return secrets.token_hex(SEED_BYTES)


def commitment(seed_hex: str) -> str:
    """The published commitment to ``seed_hex``: hex SHA-256 of the seed's bytes."""
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def uniform(key: bytes, i: int, m: int) -> int:
    """An integer in ``0 .. m-1`` from the HMAC stream of draw step ``i`` (see above)."""
    if m <= 0:
        raise ValueError("m must be positive")
    limit = SPACE - SPACE % m
    counter = 0
    while True:
        digest = hmac.new(key, f"{i}:{counter}".encode(), hashlib.sha256).digest()
        value = int.from_bytes(digest[:8], "big")
        if value < limit:
            return value % m
        counter += 1


def draw(seed_hex: str, entrants: list[str] | set[str], winners: int) -> list[str]:
    """The winners of a draw: deterministic in the seed, the set of entrants and
    ``winners``; raises ``ValueError`` for a seed that is not hex."""
    pool = sorted(set(entrants))
    key = bytes.fromhex(seed_hex)
    count = min(max(winners, 0), len(pool))
    for i in range(count):
        j = i + uniform(key, i, len(pool) - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:count]


def verify(
    seed_hex: str, published_commitment: str, entrants: list[str], winners: list[str]
) -> list[str]:
    """What does not hold of a published draw (empty when it all checks out)."""
    problems = []
    try:
        if commitment(seed_hex) != published_commitment.lower():
            problems.append("the seed does not match the commitment")
        expected = draw(seed_hex, entrants, len(winners))
    except ValueError:
        return ["the seed is not hex"]
    if len(set(entrants)) != len(entrants):
        problems.append("an entrant is listed twice")
    if expected != winners:
        problems.append(f"recomputed winners {expected} differ from the published {winners}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m livecommerce.commerce.draw SEED WINNERS < entrants.txt")
        return 2
    entrants = [line.strip() for line in sys.stdin if line.strip()]
    for user in draw(argv[0], entrants, int(argv[1])):
        print(user)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
