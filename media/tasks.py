"""Background tasks with an owner: a :class:`Supervisor` starts them and ends them for sure.

One ``cancel()`` is not always enough: redis-py can swallow a cancellation that
lands inside a command's read timeout (redis/redis-py#2551), and a loop that
keeps going would make shutdown hang. So a supervisor first asks its tasks to
stop (its ``stopping`` event, which loops watch), gives them a grace period to
end by themselves (a store command in flight is let finish: cancelling one
mid-way can leak its connection), then cancels them again and again, at
jittered intervals so a cancel cannot stay in phase with a loop's own period,
until they have ended.

This module is a leaf and imports nothing of ``livecommerce``, so ``media/`` and
``clients/`` use it as it is; ``livecommerce.tasks`` adds periodic loops.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Collection, Coroutine
from typing import TypeVar

log = logging.getLogger("media.tasks")

T = TypeVar("T")

CANCEL_RETRY_S = (0.03, 0.13)
# Cancelling for longer than this means a task ignores cancellation: a bug to log,
# never a reason for shutdown to hang.
CANCEL_TIMEOUT_S = 5.0
# How a task may end without it being an error: cancelled, or its connection closed.
NORMAL_ENDS: tuple[type[BaseException], ...] = (ConnectionError,)


async def cancel_all(
    tasks: Collection[asyncio.Task[object]], *, timeout_s: float | None = None
) -> set[asyncio.Task[object]]:
    """Cancel ``tasks`` until each has ended, or ``timeout_s`` passed; the tasks still
    running then (none without a timeout). What a task ended with is retrieved, not raised."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout_s is None else loop.time() + timeout_s
    running = {task for task in tasks if not task.done()}
    while running:
        wait_s = random.uniform(*CANCEL_RETRY_S)
        if deadline is not None:
            left = deadline - loop.time()
            if left <= 0:
                break
            wait_s = min(wait_s, left)
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=wait_s)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()
    return running


async def cancel_and_wait(
    task: asyncio.Task[object] | None, *, timeout_s: float | None = None
) -> bool:
    """Cancel ``task`` until it has ended (True), or ``timeout_s`` passed (False).

    Errors it ended with are left to its own logs."""
    return task is None or not await cancel_all([task], timeout_s=timeout_s)


class Supervisor:
    """The owner of a set of named tasks.

    Guarantees:

    * :meth:`stop` sets :attr:`stopping`, waits up to ``grace_s`` for the tasks to
      end by themselves, then cancels the rest until they end (see the module
      docstring). It returns within ``grace_s + cancel_timeout_s`` (plus one retry
      interval) even when a task swallows cancellations; a task that still runs
      then is logged as an error and left running (a later :meth:`stop` tries again)
      rather than hanging shutdown.
    * When :meth:`stop` returns, every task spawned before it returned has ended
      (tasks spawned while it runs are waited for too; only a task logged as left
      running has not) and has been awaited, so asyncio never warns of a pending
      task or an unretrieved exception.
    * A task that ends with an exception is logged under its name when it ends,
      with its traceback; cancellation and a closed connection (``ConnectionError``)
      are normal ends, logged at debug level.
    * :meth:`stop` may be called again: :attr:`stopping` stays set, so a loop spawned
      after a stop ends at once, and the next :meth:`stop` awaits what was spawned.
    """

    def __init__(
        self,
        *,
        grace_s: float = 0.0,
        cancel_timeout_s: float = CANCEL_TIMEOUT_S,
        logger: logging.Logger = log,
    ) -> None:
        self._grace_s = grace_s
        self._cancel_timeout_s = cancel_timeout_s
        self._log = logger
        self._tasks: set[asyncio.Task[object]] = set()
        self._stopping = asyncio.Event()

    @property
    def stopping(self) -> asyncio.Event:
        """Set by :meth:`stop`: loops end at their next wait."""
        return self._stopping

    def spawn(self, name: str, coroutine: Coroutine[object, None, T]) -> asyncio.Task[T]:
        """Run ``coroutine`` as a task named ``name``, owned by this supervisor."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    async def join(self) -> None:
        """Wait until every task has ended, those spawned meanwhile too; cancels nothing."""
        while running := self._running():
            await asyncio.wait(running)

    async def stop(self) -> None:
        """Tell the tasks to stop, let them end within the grace period, then cancel the
        rest for sure (see the class docstring for the guarantees)."""
        self._stopping.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace_s
        while (running := self._running()) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(running, timeout=left)
        deadline = loop.time() + self._cancel_timeout_s
        while (running := self._running()) and (left := deadline - loop.time()) > 0:
            await cancel_all(running, timeout_s=left)
        for task in self._running():
            self._log.error("task %s ignores cancellation; left running", task.get_name())

    def _running(self) -> set[asyncio.Task[object]]:
        current = asyncio.current_task()
        return {task for task in self._tasks if not task.done() and task is not current}

    def _ended(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if isinstance(error, NORMAL_ENDS):
            self._log.debug("task %s ended: %r", task.get_name(), error)
        else:
            self._log.error("task %s failed", task.get_name(), exc_info=error)
