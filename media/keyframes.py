"""Keyframe requests (PLI) to the publisher: rate limited, repeated, never dropped.

Many viewers may want a keyframe at once; the publisher gets at most one
request per ``interval_s``. A request arriving inside the interval is not
dropped but deferred to the interval's end, and while anyone still waits
(``still_wanted()``), the request is sent again every interval: publishers
may lose a PLI, and OBS ignores them (the GOP cache covers that case).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from media.tasks import Supervisor

log = logging.getLogger("media.keyframes")


class KeyframeRequester:
    """Sends ``send()`` upstream on demand, at most once per interval."""

    def __init__(
        self,
        send: Callable[[], Awaitable[None]],
        still_wanted: Callable[[], bool],
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._still_wanted = still_wanted
        self._interval_s = interval_s
        self._clock = clock
        self._last_sent: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tasks = Supervisor(logger=log)
        self._closed = False
        self.sent = 0

    def request(self) -> None:
        """Ask for a keyframe now, or at the end of the current interval."""
        if self._closed or self._timer is not None:
            return
        now = self._clock()
        if self._last_sent is None or now - self._last_sent >= self._interval_s:
            self._fire()
        else:
            self._schedule(self._last_sent + self._interval_s - now)

    def request_now(self) -> None:
        """Ask for a keyframe at once, whatever the interval (a new publisher: the one
        it owes is not waiting behind an earlier request to another publisher)."""
        if self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._fire()

    def _schedule(self, delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(delay_s, 0.0), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self._closed and self._still_wanted():
            self._fire()

    def _fire(self) -> None:
        self._last_sent = self._clock()
        self.sent += 1
        self._tasks.spawn("keyframe-request", self._send_logged())
        # Check again after one interval; re-send if someone is still waiting.
        self._schedule(self._interval_s)

    async def _send_logged(self) -> None:
        try:
            await self._send()
        except ConnectionError:
            pass
        except Exception:
            log.exception("sending a keyframe request failed")

    async def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self._tasks.stop()
