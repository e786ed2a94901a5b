"""One delivery attempt over HTTP, what its answer means, and the delay before the next.

* 2xx: delivered (acknowledged in the store).
* 410 Gone: the endpoint asked never to be called again; its deliveries stop.
* Anything else — 1xx, 3xx (redirects are not followed), 4xx, 5xx, a refused
  connection, no answer within the timeout — is a failed attempt, retried
  after an exponential backoff with full jitter, or after ``Retry-After``
  (seconds or an HTTP date) when a 429 or 503 gives one.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from livecommerce.hooks.endpoints import Endpoint
from livecommerce.hooks.signing import signature_headers

USER_AGENT = "livecommerce-hooks/1"
# Enough of an error answer's body to explain a dead letter, never a whole page.
ERROR_BODY_BYTES = 200
_RETRY_AFTER_STATUSES = frozenset({429, 503})


class Result(enum.Enum):
    DELIVERED = "delivered"
    FAILED = "failed"
    GONE = "gone"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to; ``error`` says why it failed, for logs and dead letters."""

    result: Result
    error: str = ""
    retry_after_s: float | None = None


def parse_retry_after(value: str, now_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date); None if bad."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        return None
    return max(0.0, when.timestamp() - now_s)


def backoff_delay(
    failures: int,
    initial_s: float,
    max_s: float,
    retry_after_s: float | None = None,
    rng: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds before the next attempt after ``failures`` failed ones.

    Full jitter: uniform between 0 and ``initial_s * 2**(failures-1)``, capped at
    ``max_s`` — spreads the retries of many events after an outage. A
    ``Retry-After`` replaces it (also capped at ``max_s``, so one answer cannot
    park an endpoint for days).
    """
    if retry_after_s is not None:
        return min(retry_after_s, max_s)
    ceiling = min(max_s, initial_s * 2.0 ** min(max(failures - 1, 0), 64))
    return rng(0.0, ceiling)


async def attempt(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    msg_id: str,
    body: bytes,
    timeout_s: float,
    clock: Callable[[], float] = time.time,
) -> Outcome:
    """POST ``body`` signed for ``endpoint`` once and classify the answer; never raises for
    network trouble."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(endpoint.keys, msg_id, int(clock()), body),
    }
    try:
        async with session.post(
            endpoint.url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            if 200 <= response.status < 300:
                return Outcome(Result.DELIVERED)
            snippet = await response.content.read(ERROR_BODY_BYTES)
            return _failure(response.status, response.headers.get("Retry-After"), snippet, clock)
    except TimeoutError:
        return Outcome(Result.FAILED, f"no answer within {timeout_s:g} s")
    except aiohttp.ClientConnectorError as exc:
        return Outcome(Result.FAILED, f"cannot connect: {exc.strerror or exc}")
    except (aiohttp.ClientError, OSError) as exc:
        return Outcome(Result.FAILED, f"{type(exc).__name__}: {exc}")


def _failure(
    status: int, retry_after: str | None, snippet: bytes, clock: Callable[[], float]
) -> Outcome:
    text = snippet.decode("utf-8", "replace").strip()
    error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    error += f": {text}" if text else ""
    if status == 410:
        return Outcome(Result.GONE, error)
    delay = None
    if status in _RETRY_AFTER_STATUSES and retry_after is not None:
        delay = parse_retry_after(retry_after, clock())
    return Outcome(Result.FAILED, error, delay)
