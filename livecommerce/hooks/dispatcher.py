"""The hook dispatcher: every outbox event POSTed, signed, to every configured endpoint.

Guarantees (see ``docs/hooks.md``):

* at least once per event and endpoint; a retried or replayed event keeps its
  ``webhook-id`` and body;
* per room and endpoint, events are delivered one at a time in stream order
  (the group's pending list is a lease between nodes); a slow or failing
  endpoint or room holds up only itself;
* entries a dead node left pending are taken over (XAUTOCLAIM) after
  ``claim_idle_s``; a node keeps what it holds fresh, and hands it over at
  once when it stops;
* bounded: at most ``MAX_LANES_PER_ENDPOINT`` lanes (concurrent deliveries)
  per endpoint, each holding at most ``BATCH_SIZE`` entries.

The dispatcher's supervisor owns its tasks: the poll loop and the lanes it
starts; ``stop()`` drains them (see :meth:`HookDispatcher.stop`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp

from livecommerce.config import HooksSettings
from livecommerce.hooks.dead_letters import count_dead_letters
from livecommerce.hooks.endpoints import Endpoint, endpoints_of
from livecommerce.hooks.lane import Lane, LaneContext
from livecommerce.hooks.outbox import Outbox, RoomStatus
from livecommerce.hooks.retention import Retention, RetentionPolicy
from livecommerce.metrics import Metrics
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.hooks")

# Concurrent deliveries per endpoint: enough to keep up with many busy rooms,
# few enough not to flood a backend that is catching up after an outage.
MAX_LANES_PER_ENDPOINT = 32
# The outboxes set is read whole when its size changes, and at least this often.
DISCOVERY_RESYNC_S = 30.0
# Handing over on stop: idle far beyond any claim_idle_s, so the next node takes at once.
RELEASE_IDLE_MS = 365 * 86_400_000
RELEASE_TIMEOUT_S = 2.0
# A store command in flight is let finish (bounded by store.command_timeout_s).
STOP_GRACE_S = 10.0
RELEASE_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, *STORE_UNAVAILABLE_ERRORS)

SessionFactory = Callable[[], aiohttp.ClientSession]


def default_session() -> aiohttp.ClientSession:
    # No cookies, no environment proxies: each POST stands alone. No connection limit:
    # the lanes bound the requests in flight, and waiting for a pooled connection
    # would eat into timeout_s.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
    )


class HookDispatcher:
    """Delivers the outbox streams of one store (one key prefix) as this node."""

    def __init__(
        self,
        *,
        client: StoreClient,
        keys: Keys,
        scripts: ScriptRunner,
        settings: HooksSettings,
        node_id: str,
        metrics: Metrics,
        http_session_factory: SessionFactory | None = None,
    ) -> None:
        self._deliveries = metrics.hook_deliveries
        self._client = client
        self._keys = keys
        self._settings = settings
        self._node_id = node_id
        self._session_factory = http_session_factory or default_session
        self.endpoints: list[Endpoint] = endpoints_of(settings.endpoints)
        self.gone: dict[str, str] = {}  # endpoint id → the answer that stopped it
        self._outbox = Outbox(client=client, keys=keys, scripts=scripts)
        self._retention = Retention(
            client=client,
            keys=keys,
            policy=RetentionPolicy.of_days(
                retention_days=settings.retention_days,
                dead_letter_retention_days=settings.dead_letter_retention_days,
                interval_s=settings.trim_interval_s,
            ),
        )
        self._rooms: list[str] = []
        self._statuses: dict[str, RoomStatus] | None = None  # as of the last poll
        self._room_count = -1
        self._next_resync = 0.0
        self._next_keep = 0.0
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._turn = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: Supervisor | None = None

    def start(self) -> None:
        """Start delivering; without endpoints, only trim the outboxes by age."""
        if self._tasks is not None:
            return
        self._tasks = Supervisor(grace_s=STOP_GRACE_S, logger=log)
        if not self.endpoints:
            self._tasks.every(
                "hooks-retention",
                self._settings.trim_interval_s,
                self._trim_only,
                quiet=STORE_UNAVAILABLE_ERRORS,
            )
            return
        self._session = self._session_factory()
        context = LaneContext(
            self._client,
            self._keys,
            self._outbox,
            self._session,
            self._settings,
            self._node_id,
            self._endpoint_gone,
            self.gone,
            self._tasks,
            self._deliveries,
        )
        self._tasks.every(
            "hooks-dispatcher",
            self._settings.poll_interval_s,
            lambda: self._tick(context),
            quiet=STORE_UNAVAILABLE_ERRORS,
        )
        log.info(
            "hooks: delivering to %s as consumer %s",
            ", ".join(f"{e.url} ({e.id})" for e in self.endpoints),
            self._node_id,
        )

    async def stop(self) -> None:
        """Stop every task, hand held entries over to other nodes, close the HTTP session.

        The poll loop and the lanes are asked to stop and do so at their next wait
        (an HTTP request in flight is abandoned, a store command is let finish:
        cancelling one mid-way can leak its connection); any still running after
        ``STOP_GRACE_S`` are cancelled for sure.
        """
        if self._tasks is None:
            return
        tasks, self._tasks = self._tasks, None
        await tasks.stop()
        try:
            await asyncio.wait_for(self._release(), RELEASE_TIMEOUT_S)
        except RELEASE_ERRORS as exc:
            log.warning("hooks: could not hand over held entries (others take them later): %s", exc)
        self._lanes.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def backlog(self) -> dict[str, int]:
        """Events each endpoint (by id) has not acknowledged, summed over every room's
        outbox, as of the last poll (every ``poll_interval_s``); empty before the first
        poll or without endpoints. Every node polls every room: the figure is the
        deployment's, not this node's share."""
        statuses = self._statuses
        if statuses is None:
            return {}
        return {
            endpoint.id: sum(status.backlog(endpoint.group) for status in statuses.values())
            for endpoint in self.endpoints
        }

    async def dead_letter_count(self) -> int:
        """Dead letters in the store (every endpoint, every node): one HLEN."""
        return await count_dead_letters(self._client, self._keys)

    async def _release(self) -> None:
        for lane in self._lanes.values():
            if lane.held and lane.endpoint.id not in self.gone:
                await self._outbox.keep(
                    lane.room, lane.endpoint.group, self._node_id, lane.held, RELEASE_IDLE_MS
                )

    def _endpoint_gone(self, endpoint: Endpoint, answer: str) -> None:
        if endpoint.id not in self.gone:
            self.gone[endpoint.id] = answer
            log.error(
                "hooks: endpoint %s (%s) answered %s: it is gone; this node stops delivering "
                "to it until restarted and parks its events in the dead letters (replay them "
                "with `livecommerce hooks replay` within hooks.retention_days); fix or remove "
                "the endpoint in hooks.endpoints and restart",
                endpoint.url,
                endpoint.id,
                answer,
            )

    async def _tick(self, context: LaneContext) -> None:
        now = time.monotonic()
        await self._discover(now)
        await self._keep_held(now)
        statuses = await self._outbox.status(self._rooms)
        self._statuses = statuses
        self._turn = (self._turn + 1) % max(len(self._rooms), 1)
        order = self._rooms[self._turn :] + self._rooms[: self._turn]  # fair when at capacity
        for endpoint in self.endpoints:
            self._start_lanes(context, endpoint, order, statuses, now)
        self._prune(now)
        groups = [endpoint.group for endpoint in self.endpoints]
        await self._retention.run(self._rooms, groups, now)

    async def _trim_only(self) -> None:
        rooms = sorted(await self._outbox.rooms())
        await self._retention.run(rooms, [], time.monotonic())

    async def _discover(self, now: float) -> None:
        count = await self._outbox.room_count()
        if count == self._room_count and now < self._next_resync:
            return
        rooms = await self._outbox.rooms()
        new = sorted(rooms.difference(self._rooms))
        groups = [endpoint.group for endpoint in self.endpoints]
        for room in new:
            await self._outbox.ensure_groups(room, groups)
        self._rooms = sorted(rooms)
        self._room_count = count
        self._next_resync = now + DISCOVERY_RESYNC_S

    def _start_lanes(
        self,
        context: LaneContext,
        endpoint: Endpoint,
        rooms: list[str],
        statuses: dict[str, RoomStatus],
        now: float,
    ) -> None:
        running = sum(
            1 for lane in self._lanes.values() if lane.endpoint is endpoint and lane.running
        )
        for room in rooms:
            if running >= MAX_LANES_PER_ENDPOINT:
                return
            status = statuses.get(room)
            if status is None or not status.has_work(endpoint.group):
                continue
            lane = self._lanes.get((endpoint.id, room))
            if lane is None:
                lane = self._lanes[(endpoint.id, room)] = Lane(context, endpoint, room)
            elif lane.running or now < lane.busy_until:
                continue
            lane.start()
            running += 1

    async def _keep_held(self, now: float) -> None:
        """Reset the idle time of held entries (a third of claim_idle_s apart), so no other
        node takes them over, and drop those another node did take over."""
        if now < self._next_keep:
            return
        self._next_keep = now + self._settings.claim_idle_s / 3
        for lane in list(self._lanes.values()):
            if not lane.held or lane.endpoint.id in self.gone:
                continue
            touched = list(lane.held)
            kept = await self._outbox.keep(lane.room, lane.endpoint.group, self._node_id, touched)
            lost = set(touched) - kept
            if lost:
                log.warning(
                    "hooks: %d entries of room %s for %s were taken over by another node",
                    len(lost),
                    lane.room,
                    lane.endpoint.url,
                )
                lane.forget(lost)

    def _prune(self, now: float) -> None:
        """Forget idle lanes, so memory follows the work, not the number of rooms."""
        for key, lane in list(self._lanes.items()):
            if not lane.running and not lane.held and now >= lane.busy_until:
                del self._lanes[key]
