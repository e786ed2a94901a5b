"""Ending background tasks for sure.

One ``cancel()`` is not always enough: redis-py can swallow a cancellation
that lands inside a command's read timeout (redis/redis-py#2551), and a loop
that keeps going would make shutdown hang. So loops also watch a stop event
(:func:`stop_loop` sets it first), and cancellation is repeated at jittered
intervals so it cannot stay in phase with a loop's own period. This module is a leaf.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

CANCEL_RETRY_S = (0.03, 0.13)


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` until it has ended (errors it ended with are left to its own logs)."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=random.uniform(*CANCEL_RETRY_S))
    if not task.cancelled():
        task.exception()


async def stop_loop(stopping: asyncio.Event, task: asyncio.Task[Any] | None) -> None:
    """Tell a loop to stop (it checks ``stopping`` every round), then cancel it for sure."""
    stopping.set()
    await cancel_and_wait(task)
