"""Per-connection counters: a token bucket for frame rate, strikes for bad frames."""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBucket:
    """Holds up to ``burst`` tokens, refilled at ``per_s`` a second."""

    def __init__(self, burst: int, per_s: float) -> None:
        self._burst = float(burst)
        self._per_s = per_s
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._per_s)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class StrikeCounter:
    """Counts bad frames; one is forgiven per ``forgive_every_s``. True once over ``limit``."""

    def __init__(self, limit: int, forgive_every_s: float) -> None:
        self._limit = limit
        self._bucket = TokenBucket(limit, 1 / forgive_every_s)

    def strike(self) -> bool:
        return not self._bucket.take()


class KeyedBuckets:
    """A :class:`TokenBucket` per key (a client address); the least recently used go first
    once more than ``max_keys`` are kept, so the table stays bounded."""

    def __init__(self, burst: int, per_s: float, max_keys: int = 10_000) -> None:
        self._burst = burst
        self._per_s = per_s
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, key: str) -> bool:
        bucket = self._buckets.pop(key, None) or TokenBucket(self._burst, self._per_s)
        self._buckets[key] = bucket
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return bucket.take()
