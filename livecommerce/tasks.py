"""Background work of a node: periodic loops, each owned by a :class:`Supervisor`.

Each background loop of the app is a :func:`periodic` run by its owner's
supervisor, whose ``stop()`` tells the loops to stop, lets a round in progress
finish within a grace period, then cancels for sure (redis-py can swallow one
cancel: redis/redis-py#2551). The supervisor itself lives in ``media.tasks``
(``media/`` may not import the app; the app may import ``media``), so there is
one implementation. This module imports nothing else of the package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from media import tasks as media_tasks
from media.tasks import cancel_all, cancel_and_wait

__all__ = ["LOOP_GRACE_S", "Supervisor", "cancel_all", "cancel_and_wait", "periodic"]

log = logging.getLogger("livecommerce.tasks")

# How long stop() lets a periodic round in progress finish. With the store up a round
# takes milliseconds; every round is idempotent or retried, so cutting one short loses
# nothing, and a store that hangs cannot hold up the shutdown for long.
LOOP_GRACE_S = 1.0


async def periodic(
    interval_s: float,
    job: Callable[[], Awaitable[object]],
    stopping: asyncio.Event,
    *,
    name: str,
    logger: logging.Logger = log,
    quiet: tuple[type[BaseException], ...] = (),
    wait_first: bool = False,
) -> None:
    """Run ``job`` every ``interval_s`` until ``stopping`` is set.

    * Rounds start ``interval_s`` apart; a round that takes longer is followed by the
      next at once. The first round starts at once, or after one interval with
      ``wait_first``.
    * Setting ``stopping`` ends the loop at its next wait, without waiting out the
      interval; a round in progress is not interrupted (its supervisor cancels it
      after the grace period).
    * A job that raises is logged and the loop goes on with the next round: an error
      of a ``quiet`` class (a dependency that is down, such as the store) as one
      warning until a round succeeds again, which is logged once too; any other
      error with its traceback, every time. Cancellation ends the loop.
    """
    loop = asyncio.get_running_loop()
    failing = False
    if wait_first and await _stopped_within(stopping, interval_s):
        return
    while not stopping.is_set():
        started = loop.time()
        try:
            await job()
        except quiet as exc:
            if not failing:
                logger.warning("%s waits (%s); trying again every %g s", name, exc, interval_s)
            failing = True
        except Exception:
            logger.exception("%s failed; trying again in %g s", name, interval_s)
        else:
            if failing:
                logger.info("%s works again", name)
            failing = False
        if await _stopped_within(stopping, interval_s - (loop.time() - started)):
            return


class Supervisor(media_tasks.Supervisor):
    """The owner of a set of named tasks (see :class:`media.tasks.Supervisor` for its
    guarantees), which runs periodic loops too; a round in progress gets ``grace_s``
    to finish when it stops."""

    def __init__(
        self,
        *,
        grace_s: float = LOOP_GRACE_S,
        cancel_timeout_s: float = media_tasks.CANCEL_TIMEOUT_S,
        logger: logging.Logger = log,
    ) -> None:
        super().__init__(grace_s=grace_s, cancel_timeout_s=cancel_timeout_s, logger=logger)

    def every(
        self,
        name: str,
        interval_s: float,
        job: Callable[[], Awaitable[object]],
        *,
        quiet: tuple[type[BaseException], ...] = (),
        wait_first: bool = False,
    ) -> asyncio.Task[None]:
        """Spawn :func:`periodic` as a task named ``name``, ended by :meth:`stop`; it logs
        to the supervisor's logger."""
        loop = periodic(
            interval_s,
            job,
            self.stopping,
            name=name,
            logger=self._log,
            quiet=quiet,
            wait_first=wait_first,
        )
        return self.spawn(name, loop)


async def _stopped_within(stopping: asyncio.Event, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``stopping``; whether it is set."""
    if timeout_s > 0:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await stopping.wait()
    return stopping.is_set()
