"""Store calls made in one event-loop tick, sent as one pipeline.

A burst of buyers arrives as many WebSocket frames handled in the same tick.
Sending each one's reserve script on its own costs a round trip and a pool
connection per buyer; queueing the calls and sending them together when the
tick ends costs one of each per batch. Answers go back to each caller in
order.

A bad call never fails another caller's call: each call is packed when it is
queued, so arguments that cannot be sent (a string that is not valid Unicode, a
type the protocol has no form for) fail that caller at once and never join the
pipeline; an error answer (a script that raised, a wrong type) goes to its own
caller only; a script the store forgot that cannot be loaded again fails the
calls of that script only. Only what no call could survive — the store
unreachable, a connection broken mid-batch — fails every caller of a batch.

Pipelines are not transactions: each script is still its own atomic step.
On a cluster the calls go to the master owning each call's slot, one packed
write per master.

Each caller is answered as soon as its own answer is read, not when its whole batch
is: in a burst the first buyers' answers go out while the store still runs the later
calls. (A call the store must see again — a script it forgot, a slot that moved — waits
for its retry; with ``min_replicas_ack`` every caller of a money batch waits for the WAIT.)

With ``min_replicas_ack`` (``store.min_replicas_ack``), a write that carries a money
script (``MONEY_SCRIPTS``: a reserve, a settle, a claim, an auction's or a giveaway's
winner orders, a replay buy) ends with ``WAIT min_replicas_ack timeout`` on the same
connection: one WAIT per batch and master; a money call the cluster redirected (MOVED,
ASK, TRYAGAIN) is sent again to the node now serving its slot, with its own WAIT. Its
callers get their answers only when that many replicas hold every write of the batch;
otherwise each gets :class:`ReplicasBehindError` (a store-unavailable error: the buyer
sends the same buy again with its key and gets the answer the store recorded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

import hiredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    DataError,
    MovedError,
    NoScriptError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as StoreConnectionError
from redis.exceptions import TimeoutError as StoreTimeoutError

from livecommerce.metrics import Metrics
from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.lua import ScriptArg, ScriptRunner
from livecommerce.store.pool import FairRedisCluster
from livecommerce.store.replies import R

DEFAULT_MAX_BATCH = 256
# Scripts whose answers are promises about money: with min_replicas_ack, their batch
# waits for the replicas before anyone is answered.
MONEY_SCRIPTS = frozenset(
    {
        "sales_reserve",
        "orders_settle",
        "vouchers_claim",
        "auctions_close",
        "giveaways_award",
        "replays_buy",
    }
)
RETRY_AFTER_S = 0.05
# Answers of a cluster node that did not run the call: the slot moved (MOVED is an
# AskError), is moving (TRYAGAIN) or is not served right now.
REDIRECTED = (AskError, TryAgainError, ClusterDownError)
# Redirects followed for one call before its last one is its answer.
REDIRECTS = 5
# Sent before a call the store redirected with ASK (the slot is moving to that node).
ASKING = hiredis.pack_command(("ASKING",))
# Commands that answer other than once or change the connection's state: in a shared
# pipeline they would shift every later caller's answer, so they are refused.
NOT_BATCHABLE = frozenset(
    b"SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE MONITOR MULTI EXEC "
    b"DISCARD WATCH UNWATCH SELECT AUTH HELLO CLIENT RESET QUIT READONLY READWRITE ASKING "
    b"SYNC PSYNC".split()
)


class ReplicasBehindError(StoreTimeoutError):
    """Fewer replicas than ``store.min_replicas_ack`` confirmed a batch's writes in time;
    the writes may or may not survive a failover, so no caller is told they happened."""


class _Call(NamedTuple):  # a tuple: built once per call on the hot path
    script: str | None  # None: a plain command
    command: tuple[Any, ...]  # EVALSHA … for a script
    packed: bytes  # the command as sent
    slot: int  # the cluster slot it runs on (0 on a standalone store)
    answer: asyncio.Future[Any]


class StoreBatcher:
    """Queues script calls and commands; sends each tick's queue as pipelines of ``max_batch``."""

    def __init__(
        self,
        client: StoreClient,
        *,
        scripts: ScriptRunner,
        metrics: Metrics,
        max_batch: int = DEFAULT_MAX_BATCH,
        min_replicas_ack: int = 0,
        replica_ack_timeout_s: float = 1.0,
    ) -> None:
        self._seconds = metrics.pipeline_seconds
        self._calls_sent = metrics.pipeline_calls
        self._errors = metrics.store_errors
        self._client = client
        self._cluster = isinstance(client, RedisCluster)
        self._scripts = scripts
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._flush_scheduled = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self.pipelines_sent = 0
        self._min_replicas_ack = min_replicas_ack
        wait_command: tuple[Any, ...] = (
            "WAIT",
            min_replicas_ack,
            max(1, int(replica_ack_timeout_s * 1000)),
        )
        self._wait = hiredis.pack_command(wait_command) if min_replicas_ack > 0 else b""
        self.waits_sent = 0

    async def call(self, reply: type[R], keys: Sequence[str], args: Sequence[ScriptArg]) -> R:
        """``reply.script``'s answer parsed, as :meth:`ScriptRunner.call` would give it.

        Raises ``DataError`` at once, sending nothing, when an argument cannot be sent.
        """
        return reply.parse(await self.script(reply.script, keys, args))

    async def script(self, name: str, keys: Sequence[str], args: Sequence[ScriptArg]) -> object:
        """The script's answer, as :meth:`ScriptRunner.run` would give it.

        Raises ``DataError`` at once, sending nothing, when an argument cannot be sent.
        """
        sha = self._scripts.script(name).sha
        command = ("EVALSHA", sha, len(keys), *keys, *args)
        return await self._enqueue(name, command, keys[0] if keys else None)

    async def command(self, *args: Any) -> Any:
        """A plain single-key command, e.g. ``command("PFADD", key, member)``.

        Raises ``DataError`` at once, sending nothing, when an argument cannot be sent.
        """
        return await self._enqueue(None, args, args[1] if len(args) > 1 else None)

    def queue(self, *args: Any) -> asyncio.Future[Any]:
        """:meth:`command`, queued now (in the pipeline of the calls queued this tick):
        await the future for its answer. Raises ``DataError`` as :meth:`command` does."""
        answer: asyncio.Future[Any] = self._enqueue(None, args, args[1] if len(args) > 1 else None)
        return answer

    async def aclose(self) -> None:
        """Wait for the pipelines in flight (their callers are waiting for them too)."""
        while self._in_flight or self._queue:
            self._flush()
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _enqueue(self, script: str | None, args: Sequence[Any], key: Any) -> Any:
        command = tuple(args)
        try:
            if not command or _as_bytes(command[0]).upper() in NOT_BATCHABLE:
                raise ValueError("not a command that answers once")
            # hiredis packs in C what redis-py's asyncio pipeline packs in Python (a sixth
            # of a buy's cost with 16 arguments per reserve call).
            packed = hiredis.pack_command(command)
            slot = key_slot(_as_bytes(key)) if self._cluster else 0
        except (UnicodeError, TypeError, ValueError) as error:
            name = repr(command[0]) if command else "an empty command"
            raise DataError(f"{name} cannot be batched: {error}") from None
        loop = asyncio.get_running_loop()
        call = _Call(script, command, packed, slot, loop.create_future())
        self._queue.append(call)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return call.answer

    def _flush(self) -> None:
        self._flush_scheduled = False
        queued, self._queue = self._queue, []
        for start in range(0, len(queued), self._max_batch):
            task = asyncio.create_task(self._send(queued[start : start + self._max_batch]))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _send(self, calls: list[_Call]) -> None:
        try:
            results = await self._execute(calls)
        except BaseException as error:
            if isinstance(error, STORE_UNAVAILABLE_ERRORS):
                self._errors.inc("pipeline")
            for call in calls:
                if not call.answer.done():
                    call.answer.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for call, result in zip(calls, results, strict=True):
            if call.answer.done():
                continue  # its caller went away; the store did the work all the same
            if isinstance(result, Exception):
                call.answer.set_exception(result)
            else:
                call.answer.set_result(result)

    async def _execute(self, calls: list[_Call]) -> list[Any]:
        results = await self._pipeline(calls)
        forgotten = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if not forgotten:
            return results
        # The store restarted and forgot its scripts: load each once, run those calls again.
        # A script that cannot be loaded fails its own calls only.
        unloadable: dict[str | None, Exception] = {}
        for name in {calls[i].script for i in forgotten}:
            if name is None:
                continue
            try:
                await self._scripts.load(name)
            except STORE_UNAVAILABLE_ERRORS:
                raise
            except Exception as error:
                unloadable[name] = error
        for i in forgotten:
            if calls[i].script in unloadable:
                results[i] = unloadable[calls[i].script]
        again = [i for i in forgotten if calls[i].script not in unloadable]
        retried = await self._pipeline([calls[i] for i in again]) if again else []
        for i, result in zip(again, retried, strict=True):
            results[i] = result
        return results

    async def _pipeline(self, calls: list[_Call]) -> list[Any]:
        """Send the calls in one write per store node and read their answers; an error
        answer is returned in place. A broken connection (the store restarted) is retried
        once on a fresh one, which is why only idempotent calls belong here."""
        if isinstance(self._client, RedisCluster):
            return await self._pipeline_cluster(self._client, calls)
        packed = b"".join(call.packed for call in calls)
        pool = self._client.connection_pool
        wait = self._wait_for(calls)
        early = None if wait else _answer_early(calls)
        try:
            return await self._send_packed(
                pool.get_connection, pool.release, packed, len(calls), wait, early=early
            )
        except StoreConnectionError:
            await asyncio.sleep(RETRY_AFTER_S)
            return await self._send_packed(
                pool.get_connection, pool.release, packed, len(calls), wait, early=early
            )

    def _wait_for(self, calls: list[_Call]) -> bytes:
        """The WAIT to send after these calls: none without min_replicas_ack or money."""
        if self._wait and any(call.script in MONEY_SCRIPTS for call in calls):
            return self._wait
        return b""

    async def _pipeline_cluster(self, client: RedisCluster, calls: list[_Call]) -> list[Any]:
        """The calls grouped by the master owning each one's slot (all keys of a call
        share a hash tag), one packed write per master, the masters in parallel. Calls
        the store redirected (a slot moving) run again through the cluster client."""
        await client.initialize()
        groups: dict[str, tuple[ClusterNode, list[int]]] = {}
        for index, call in enumerate(calls):
            node = client.nodes_manager.get_node_from_slot(call.slot)
            groups.setdefault(node.name, (node, []))[1].append(index)
        answers = await asyncio.gather(
            *(
                self._send_node(node, [calls[i] for i in indexes])
                for node, indexes in groups.values()
            ),
            return_exceptions=True,
        )
        results: list[Any] = [None] * len(calls)
        for (_node, indexes), answer in zip(groups.values(), answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer
                if isinstance(answer, STORE_UNAVAILABLE_ERRORS) and not isinstance(
                    answer, ReplicasBehindError
                ):
                    # The master may have failed over: read the slot map again before the
                    # next batch (the cluster client does the same after its own errors).
                    client._request_refresh(last_failed_node_name=_node.name)
                answer = [answer] * len(indexes)  # an unreachable master fails its calls only
            for index, result in zip(indexes, answer, strict=True):
                results[index] = result
        for index, result in enumerate(results):
            if isinstance(result, REDIRECTED):
                try:
                    results[index] = await self._redo(client, calls[index], result)
                except Exception as error:  # this call's own failure, not the batch's
                    results[index] = error
        return results

    async def _redo(self, client: RedisCluster, call: _Call, answer: Exception) -> Any:
        """A call the store redirected, run again. Without a WAIT to send, through the
        cluster client (it follows MOVED and ASK); with one, on the node now serving the
        slot with the WAIT after it on the same connection, so its answer is as durable
        as the batch's. The last redirect is the answer after ``REDIRECTS`` of them."""
        if not self._wait_for([call]):
            return await client.execute_command(*call.command)
        nodes = client.nodes_manager
        for _ in range(REDIRECTS):
            node = None
            if isinstance(answer, MovedError):
                await nodes.move_slot(answer)  # this slot's new owner, as the client does
            elif isinstance(answer, AskError):  # the slot is moving: ask its target once
                target = nodes.remap_host_port(answer.host, answer.port)
                if nodes.get_node(*target) is None:
                    await nodes.initialize()  # a node the client does not know yet
                node = nodes.get_node(*target)
            else:
                await nodes.initialize()  # TRYAGAIN, CLUSTERDOWN: read the slot map again
            asking = node is not None
            node = node or nodes.get_node_from_slot(call.slot)
            answer = (await self._send_node(node, [call], asking=asking))[0]
            if not isinstance(answer, REDIRECTED):
                return answer
            await asyncio.sleep(RETRY_AFTER_S)
        return answer

    async def _send_node(
        self, node: ClusterNode, calls: list[_Call], *, asking: bool = False
    ) -> list[Any]:
        packed = b"".join(call.packed for call in calls)

        fair = self._client if isinstance(self._client, FairRedisCluster) else None

        async def acquire() -> Connection:
            # A turn among the client's commands: the node's pool is never exhausted by
            # them, and a batch waits (bounded) rather than failing at once.
            if fair is not None:
                await fair.take_turn()
            try:
                return node.acquire_connection()
            except BaseException:
                if fair is not None:
                    fair.end_turn()
                raise

        async def release(connection: Connection) -> None:
            node.release(connection)
            if fair is not None:
                fair.end_turn()

        wait = self._wait_for(calls)
        early = None if wait else _answer_early(calls)
        try:
            return await self._send_packed(
                acquire, release, packed, len(calls), wait, asking=asking, early=early
            )
        except StoreConnectionError:
            await asyncio.sleep(RETRY_AFTER_S)
            return await self._send_packed(
                acquire, release, packed, len(calls), wait, asking=asking, early=early
            )

    async def _send_packed(
        self,
        acquire: Callable[[], Awaitable[Any]],
        release: Callable[[Any], Awaitable[None]],
        packed: bytes,
        count: int,
        wait: bytes = b"",
        asking: bool = False,
        early: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        self.pipelines_sent += 1
        self._calls_sent.inc(count)
        started = time.perf_counter()
        connection = await acquire()
        # One deadline for the whole batch instead of one per answer (a timer each).
        timeout_s, connection.socket_timeout = connection.socket_timeout, None
        try:
            async with asyncio.timeout(timeout_s):
                prefix = ASKING if asking else b""
                await connection.send_packed_command(prefix + packed + wait, check_health=False)
                if asking:
                    await connection.read_response()
                results: list[Any] = []
                for index in range(count):
                    try:
                        result = await connection.read_response()
                    except ResponseError as error:
                        result = error
                    results.append(result)
                    if early is not None:
                        early(index, result)
                if wait:
                    self.waits_sent += 1
                    acked = int(await connection.read_response())
                    if acked < self._min_replicas_ack:
                        raise ReplicasBehindError(
                            f"{acked} of {self._min_replicas_ack} replicas confirmed the "
                            "batch's writes in time (store.min_replicas_ack)"
                        )
            return results
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            connection.socket_timeout = timeout_s
            await release(connection)
            self._seconds.observe(time.perf_counter() - started)


def _answer_early(calls: list[_Call]) -> Callable[[int, Any], None]:
    """Answers the caller of ``calls[index]`` at once with its result, unless the store
    must see the call again (a forgotten script, a moved slot): that one waits for its
    retry, as do the callers of a batch that ends in a WAIT (never given this)."""

    def answer(index: int, result: Any) -> None:
        future = calls[index].answer
        if future.done() or isinstance(result, (NoScriptError, *REDIRECTED)):
            return
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)

    return answer


def _as_bytes(value: Any) -> bytes:
    """A command name, or the key that places a call on a cluster node (a script's first
    key, or a plain command's first argument: the batcher sends single-key commands only)."""
    if value is None:
        raise ValueError("a call needs a key to be placed on a cluster node")
    if isinstance(value, bytes):
        return value
    return str(value).encode()
