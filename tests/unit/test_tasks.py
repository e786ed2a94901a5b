"""Periodic loops and their supervisor: errors logged, stops that never hang, tasks awaited."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator

import pytest

from livecommerce.tasks import Supervisor, periodic

# Generous bounds on how long a stop may take: they catch a hang, not a slow machine.
HANG_S = 10.0
QUICK = 0.01


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, object]]]:
    """What the event loop reports to its exception handler ("Task exception was never
    retrieved", "Task was destroyed but it is pending!") while the test runs."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: seen.append(context))
    yield seen
    loop.set_exception_handler(previous)


class Rounds:
    """A job that counts its rounds; the rounds listed in ``fail`` raise ``error``."""

    def __init__(self, fail: set[int] | None = None, error: type[Exception] = RuntimeError):
        self.count = 0
        self.fail = fail or set()
        self.error = error
        self.changed = asyncio.Event()

    async def __call__(self) -> None:
        self.count += 1
        self.changed.set()
        if self.count in self.fail:
            raise self.error(f"round {self.count} broke")

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(HANG_S):
            while self.count < count:
                self.changed.clear()
                await self.changed.wait()


async def test_a_job_that_raises_is_logged_with_its_traceback_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = Rounds(fail={1, 3})
    tasks = Supervisor()
    with caplog.at_level(logging.ERROR, logger="livecommerce.tasks"):
        tasks.every("counting", QUICK, job)
        await job.reach(5)
        await tasks.stop()
    failures = [r for r in caplog.records if "counting failed" in r.getMessage()]
    assert len(failures) == 2
    assert all(r.exc_info and "broke" in str(r.exc_info[1]) for r in failures)


async def test_a_quiet_error_is_logged_once_until_the_job_works_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = Rounds(fail={1, 2, 3, 5}, error=ConnectionError)
    tasks = Supervisor()
    with caplog.at_level(logging.INFO, logger="livecommerce.tasks"):
        tasks.every("beating", QUICK, job, quiet=(ConnectionError,))
        await job.reach(7)
        await tasks.stop()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if "beating" in r.getMessage()]
    assert [level for level, _ in lines] == [
        logging.WARNING,  # rounds 1-3 fail: said once
        logging.INFO,  # round 4 works
        logging.WARNING,  # round 5 fails
        logging.INFO,  # round 6 works
    ], lines
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(("wait_first", "rounds"), [(False, 1), (True, 0)])
async def test_setting_stopping_ends_the_wait_at_once_and_the_loop_by_itself(
    wait_first: bool, rounds: int
) -> None:
    """The interval is an hour: the loop must notice ``stopping`` while it waits."""
    job, stopping = Rounds(), asyncio.Event()
    loop = asyncio.create_task(periodic(3600, job, stopping, name="hourly", wait_first=wait_first))
    await asyncio.sleep(QUICK)
    stopping.set()
    async with asyncio.timeout(HANG_S):
        await loop  # not cancelled: it ended by itself
    assert job.count == rounds


async def test_a_round_in_progress_is_let_finish_within_the_grace_period() -> None:
    finished = asyncio.Event()

    async def slow_round() -> None:
        await asyncio.sleep(0.2)
        finished.set()

    tasks = Supervisor(grace_s=HANG_S)
    loop = tasks.every("slow", 3600, slow_round)
    await asyncio.sleep(QUICK)  # the round is under way
    await tasks.stop()
    assert finished.is_set()
    assert loop.done()
    assert not loop.cancelled()


async def test_stop_ends_a_task_that_swallows_the_first_cancel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """redis-py#2551: a cancel that lands in a command's read timeout can be swallowed,
    and the loop goes on as if nothing happened."""
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed += 1
        await asyncio.sleep(3600)

    tasks = Supervisor(grace_s=QUICK)
    task = tasks.spawn("stubborn", stubborn())
    await asyncio.sleep(QUICK)
    async with asyncio.timeout(HANG_S):
        await tasks.stop()
    assert swallowed == 1
    assert task.cancelled()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_stop_returns_within_its_deadline_even_when_a_task_ignores_every_cancel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    released = asyncio.Event()
    ignored = 0

    async def deaf() -> None:
        nonlocal ignored
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                ignored += 1

    tasks = Supervisor(grace_s=QUICK, cancel_timeout_s=0.5)
    task = tasks.spawn("deaf", deaf())
    await asyncio.sleep(QUICK)
    try:
        with caplog.at_level(logging.ERROR):
            async with asyncio.timeout(HANG_S):
                await tasks.stop()
        assert ignored >= 2  # cancelled again and again, not once
        assert not task.done()
        assert any("deaf ignores cancellation" in r.getMessage() for r in caplog.records)
    finally:
        released.set()
    async with asyncio.timeout(HANG_S):
        await tasks.stop()  # a later stop tries again
    assert task.done()


async def test_every_task_is_awaited_and_every_failure_logged_once(
    caplog: pytest.LogCaptureFixture, loop_errors: list[dict[str, object]]
) -> None:
    async def fails() -> None:
        raise ValueError("a bug")

    async def loses_its_connection() -> None:
        raise ConnectionResetError("peer went away")

    async def forever() -> None:
        await asyncio.sleep(3600)

    tasks = Supervisor()
    with caplog.at_level(logging.DEBUG, logger="livecommerce.tasks"):
        spawned = [
            tasks.spawn("fails", fails()),
            tasks.spawn("loses-connection", loses_its_connection()),
            tasks.spawn("forever", forever()),
        ]
        await asyncio.sleep(QUICK)
        await tasks.stop()
    assert all(task.done() for task in spawned)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["task fails failed"]
    assert errors[0].exc_info
    assert isinstance(errors[0].exc_info[1], ValueError)
    del spawned
    gc.collect()
    await asyncio.sleep(0)
    assert loop_errors == []


async def test_tasks_spawned_while_stopping_are_awaited_too() -> None:
    """Stopping one task may set off another (a stream that ends publishes offline, which
    ends a pull): stop() returns only when those have ended too."""
    tasks = Supervisor(grace_s=HANG_S)
    followers: list[asyncio.Task[None]] = []

    async def follower() -> None:
        await asyncio.sleep(0.1)

    async def leader() -> None:
        await tasks.stopping.wait()
        followers.append(tasks.spawn("follower", follower()))

    tasks.spawn("leader", leader())
    await asyncio.sleep(QUICK)
    await tasks.stop()
    assert len(followers) == 1
    assert followers[0].done()
    assert not followers[0].cancelled()
