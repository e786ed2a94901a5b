"""A lane: one room's events delivered to one endpoint, one at a time, in stream order.

A lane runs as a task only while it has work: it takes a batch (new entries,
entries it holds, or entries taken over from a dead node), delivers each until
it is acknowledged or dead-lettered, and takes the next batch until none is
left. Once the endpoint answered 410 (gone), the lane parks each entry in the
dead letters unsent instead, so nothing stays pending for a gone endpoint. A
failing event holds up only its own lane: other rooms and other endpoints have
lanes of their own.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

from livecommerce.config import HooksSettings
from livecommerce.hooks.dead_letters import bury, new_dead_letter
from livecommerce.hooks.delivery import Result, attempt, backoff_delay
from livecommerce.hooks.endpoints import Endpoint
from livecommerce.hooks.events import parse_entry, webhook_body
from livecommerce.hooks.outbox import Outbox
from livecommerce.metrics import HookCounter
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.keys import Keys
from livecommerce.tasks import Supervisor, cancel_all

log = logging.getLogger("livecommerce.hooks")

T = TypeVar("T")

# Entries one lane holds at a time: bounds memory and what a dead node leaves pending.
BATCH_SIZE = 16


@dataclass(frozen=True)
class LaneContext:
    """What every lane of a dispatcher shares."""

    client: StoreClient
    keys: Keys
    outbox: Outbox
    session: aiohttp.ClientSession
    settings: HooksSettings
    consumer: str
    on_gone: Callable[[Endpoint, str], None]
    gone: Mapping[str, str]  # endpoint id → the answer that stopped it
    tasks: Supervisor  # the dispatcher's: owns the lanes' tasks; its stopping event stops them
    deliveries: HookCounter  # by endpoint id and result


class End(enum.Enum):
    """How the delivery of one entry ended."""

    DONE = "done"  # acknowledged, dead-lettered (or parked), or taken over by another node
    STOPPED = "stopped"  # the dispatcher is stopping; the entry is still held


class Lane:
    """Delivery of one room's outbox to one endpoint on this node."""

    def __init__(self, context: LaneContext, endpoint: Endpoint, room: str) -> None:
        self.context = context
        self.endpoint = endpoint
        self.room = room
        # Entry ids this node holds in the group (pending under its consumer name).
        self.held: list[str] = []
        # Another node holds the lane until about then (monotonic seconds).
        self.busy_until = 0.0
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> None:
        name = f"hooks-lane-{self.endpoint.id}-{self.room}"
        self.task = self.context.tasks.spawn(name, self._run())

    def forget(self, lost: set[str]) -> None:
        """Another node took these entries over: stop delivering them here."""
        self.held = [entry_id for entry_id in self.held if entry_id not in lost]

    async def _run(self) -> None:
        try:
            await self._drain()
        except asyncio.CancelledError:
            raise
        except STORE_UNAVAILABLE_ERRORS as exc:
            log.warning("hooks lane %s/%s: store unavailable: %s", self.endpoint.id, self.room, exc)
        except Exception:
            log.exception("hooks lane %s/%s failed", self.endpoint.id, self.room)

    async def _drain(self) -> None:
        settings, stopping = self.context.settings, self.context.tasks.stopping
        while not stopping.is_set():
            taken = await self.context.outbox.take(
                self.room,
                self.endpoint.group,
                self.context.consumer,
                BATCH_SIZE,
                int(settings.claim_idle_s * 1000),
            )
            if taken.kind == "busy":
                self.busy_until = time.monotonic() + settings.claim_idle_s / 2
                return
            if not taken.entries:
                return
            self.held = [entry_id for entry_id, _ in taken.entries]
            for entry_id, fields in taken.entries:
                if entry_id not in self.held:
                    continue
                end = await self._deliver(entry_id, fields)
                if end is End.STOPPED:
                    return  # still held: handed over by the dispatcher's stop()
                self.forget({entry_id})

    async def _deliver(self, entry_id: str, fields: dict[str, str]) -> End:
        """Deliver one entry until it is acked or buried, the endpoint is gone, another
        node took it over, or the dispatcher stops."""
        context, endpoint = self.context, self.endpoint
        settings = context.settings
        try:
            event = parse_entry(fields)
        except ValueError as exc:
            log.error(
                "hooks: outbox entry %s of room %s is malformed (%s); dead-lettered for %s",
                entry_id,
                self.room,
                exc,
                endpoint.url,
            )
            await self._bury(entry_id, fields, 0, f"malformed outbox entry: {exc}")
            context.deliveries.inc(endpoint.id, "dead_letter")
            return End.DONE
        body = webhook_body(event)
        while entry_id in self.held:
            if endpoint.id in context.gone:
                return await self._park(entry_id, fields)
            outcome = await self._unless_stopped(
                attempt(context.session, endpoint, event.id, body, settings.timeout_s)
            )
            if outcome is None:
                return End.STOPPED
            if outcome.result is Result.DELIVERED:
                context.deliveries.inc(endpoint.id, "delivered")
                await context.outbox.ack(self.room, endpoint.group, endpoint.id, entry_id)
                return End.DONE
            if outcome.result is Result.GONE:
                context.deliveries.inc(endpoint.id, "gone")
                context.on_gone(endpoint, outcome.error)
                return await self._park(entry_id, fields)
            failures = await context.outbox.add_failure(self.room, endpoint.id, entry_id)
            if failures >= settings.max_attempts:
                log.error(
                    "hooks: %s %s to %s failed %d times, last: %s; dead-lettered",
                    event.type,
                    event.id,
                    endpoint.url,
                    failures,
                    outcome.error,
                )
                context.deliveries.inc(endpoint.id, "dead_letter")
                await self._bury(entry_id, fields, failures, outcome.error)
                return End.DONE
            context.deliveries.inc(endpoint.id, "retry")
            delay = backoff_delay(
                failures, settings.initial_backoff_s, settings.max_backoff_s, outcome.retry_after_s
            )
            log.warning(
                "hooks: %s %s to %s: attempt %d of %d failed: %s; next in %.2f s",
                event.type,
                event.id,
                endpoint.url,
                failures,
                settings.max_attempts,
                outcome.error,
                delay,
            )
            await self._unless_stopped(asyncio.sleep(delay))
            if context.tasks.stopping.is_set():
                return End.STOPPED
        return End.DONE  # another node took it over

    async def _unless_stopped(self, work: Coroutine[object, None, T]) -> T | None:
        """The result of ``work``, or None when the dispatcher stops first (``work`` is
        then cancelled, so it must not use the store)."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.context.tasks.stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not task.done():
                task.cancel()
        await cancel_all([task, stop])
        return None if task.cancelled() else task.result()

    async def _park(self, entry_id: str, fields: dict[str, str]) -> End:
        """The endpoint is gone (410): the entry goes to the dead letters unsent, so it is
        neither pending forever nor holding back the outbox's trim."""
        answer = self.context.gone.get(self.endpoint.id, "HTTP 410")
        await self._bury(entry_id, fields, 0, f"parked: the endpoint is gone ({answer})")
        self.context.deliveries.inc(self.endpoint.id, "parked")
        return End.DONE

    async def _bury(self, entry_id: str, fields: dict[str, str], attempts: int, error: str) -> None:
        letter = new_dead_letter(
            self.endpoint.id, self.endpoint.url, self.room, entry_id, fields, attempts, error
        )
        await bury(self.context.client, self.context.keys, letter)
