"""Order hooks against a real store and a real webhook receiver on loopback.

Every delivery is verified with the official ``standardwebhooks`` library.
Backoffs are tiny so retries happen fast; nothing asserts on speed, only on
what arrives (and, for Retry-After, that the receiver was left alone long enough).
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from livecommerce.config import EndpointConfig, HooksSettings, Settings
from livecommerce.hooks.admin import list_dead_letters, replay
from livecommerce.hooks.commands import _run as run_command
from livecommerce.hooks.dispatcher import HookDispatcher
from livecommerce.hooks.endpoints import endpoint_id, group_name
from livecommerce.hooks.events import iso_timestamp
from livecommerce.metrics import Metrics
from livecommerce.store import client as store_client
from livecommerce.store.client import StoreClient
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from tests.integration.webhook_receiver import Receiver, free_port, new_secret, status

WAIT_S = 30.0
BASE_TS = 1_795_629_600_123
# The number of a marker event (see pass_markers), above any test's own events.
MARKER = 9999

DispatcherFactory = Callable[..., HookDispatcher]
ReceiverFactory = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def store(valkey: EmbeddedValkey) -> AsyncIterator[StoreClient]:
    client = store_client.connect(valkey.url, 2.0, 5.0, 2)
    yield client
    await client.aclose()


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


@pytest.fixture
async def receiver_factory() -> AsyncIterator[ReceiverFactory]:
    started: list[Receiver] = []

    async def make(secret: str | None = None, **kwargs: Any) -> Receiver:
        receiver = await Receiver(secret or new_secret(), **kwargs).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def dispatcher_factory(store: StoreClient, keys: Keys) -> AsyncIterator[DispatcherFactory]:
    made: list[HookDispatcher] = []

    def make(
        endpoints: list[EndpointConfig], node: str = "node-a", **options: Any
    ) -> HookDispatcher:
        values: dict[str, Any] = {
            "max_attempts": 50,
            "initial_backoff_s": 0.02,
            "max_backoff_s": 0.2,
            "timeout_s": 2.0,
            "poll_interval_s": 0.05,
            "claim_idle_s": 30.0,
        }
        values.update(options)
        hooks = HooksSettings(endpoints=tuple(endpoints), **values)
        dispatcher = HookDispatcher(
            client=store,
            keys=keys,
            scripts=ScriptRunner(store, metrics=Metrics()),
            settings=hooks,
            node_id=node,
            metrics=Metrics(),
        )
        dispatcher.start()
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        await dispatcher.stop()


def endpoint(receiver: Receiver, *secrets: str) -> EndpointConfig:
    return EndpointConfig(receiver.url, secrets or (receiver.secret,))


async def add_event(
    store: StoreClient, keys: Keys, room: str, n: int, kind: str = "order.created"
) -> str:
    order = f"{room}-{n}"
    event_id = f"evt_{order}_{kind.split('.')[1]}"
    data = {"id": order, "room": room, "user": f"u{n}", "qty": 1, "amount_cents": 1999}
    # The room exists, as it does whenever a script writes its outbox (hooks_groups.lua
    # makes no group for a deleted room).
    await store.hsetnx(keys.room(room), "id", room)
    await store.xadd(
        keys.outbox(room),
        {"id": event_id, "type": kind, "timestamp": BASE_TS + n, "data": json.dumps(data)},
    )
    await store.sadd(keys.outboxes(), room)
    return event_id


async def add_events(store: StoreClient, keys: Keys, rooms: list[str], per_room: int) -> list[str]:
    return [await add_event(store, keys, room, n) for room in rooms for n in range(per_room)]


async def pass_markers(
    store: StoreClient, keys: Keys, rooms: list[str], receivers: list[Receiver]
) -> list[str]:
    """Append a marker event to each room's outbox and wait until every receiver has them
    all. A room's events reach an endpoint in order, so every delivery of an earlier event
    that was coming has then come; the markers' ids."""
    markers = [await add_event(store, keys, room, MARKER) for room in rooms]
    for receiver in receivers:
        await wait_until(lambda r=receiver: set(markers) <= set(r.ids()), "the markers")
    return markers


async def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def every_id_once_or_repeated_identically(receiver: Receiver, expected: list[str]) -> None:
    assert receiver.rejected == []
    assert set(receiver.ids()) == set(expected)
    # A duplicate is the same delivery again: same webhook-id, same bytes.
    assert all(len(bodies) == 1 for bodies in receiver.bodies_by_id().values())


async def wait_for_pending(store: StoreClient, keys: Keys, room: str, url: str, count: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while (pending := await group_pending(store, keys, room, url)) != count:
        assert time.monotonic() < deadline, f"{pending} pending in {room}, expected {count}"
        await asyncio.sleep(0.05)


async def group_pending(store: StoreClient, keys: Keys, room: str, url: str) -> int:
    for info in await store.xinfo_groups(keys.outbox(room)):
        if info["name"].decode() == group_name(endpoint_id(url)):
            return int(info["pending"])
    raise AssertionError("no group")


async def test_every_event_reaches_every_endpoint_once_signed_in_order(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    first, second = await receiver_factory(), await receiver_factory()
    expected = await add_events(store, keys, ["r1", "r2"], 6)
    dispatcher_factory([endpoint(first), endpoint(second)])
    expected += await add_events(store, keys, ["r3"], 4)  # a room that appears later
    for receiver in (first, second):
        await wait_until(lambda r=receiver: len(r.delivered) == len(expected), "every event")
    expected += await pass_markers(store, keys, ["r1", "r2", "r3"], [first, second])
    for receiver in (first, second):
        assert sorted(receiver.ids()) == sorted(expected)
        assert receiver.rejected == []
        for room in ("r1", "r2", "r3"):
            in_room = [i for i in receiver.ids() if i.startswith(f"evt_{room}-")]
            assert in_room == [i for i in expected if i.startswith(f"evt_{room}-")]
        sample = next(d for d in receiver.delivered if d.webhook_id == "evt_r2-3_created")
        assert sample.payload == {
            "type": "order.created",
            "timestamp": iso_timestamp(BASE_TS + 3),
            "data": {"id": "r2-3", "room": "r2", "user": "u3", "qty": 1, "amount_cents": 1999},
        }
        assert sample.payload["timestamp"] == "2026-11-25T18:00:00.126Z"
        # The dispatcher acknowledges an event after its endpoint answered: the last
        # marker's ack may still be on its way.
        for room in ("r1", "r2", "r3"):
            await wait_for_pending(store, keys, room, receiver.url, 0)
    assert await store.hlen(keys.hook_attempts()) == 0
    # The entries stay in the stream for backends that consume it directly.
    assert await store.xlen(keys.outbox("r1")) == 6 + 1  # and the marker


@pytest.mark.parametrize("trouble", ["connection refused", "500s", "timeouts"])
async def test_receiver_down_then_back_gets_every_event(
    trouble: str,
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    expected = await add_events(store, keys, ["r1", "r2", "r3"], 4)
    secret = new_secret()
    failing = 12

    async def misbehave(n: int) -> web.StreamResponse | None:
        if n > failing:
            return None
        if trouble == "500s":
            return web.Response(status=500, text="backend broke")
        await asyncio.sleep(1.0)  # longer than timeout_s: the dispatcher gives up waiting
        return web.Response(status=204)

    if trouble == "connection refused":
        port = free_port()
        url = f"http://127.0.0.1:{port}/hooks"
        dispatcher_factory([EndpointConfig(url, (secret,))], timeout_s=0.3)
        deadline = time.monotonic() + WAIT_S
        while len(await store.hgetall(keys.hook_attempts())) < 3:
            assert time.monotonic() < deadline, "no failed attempts were counted"
            await asyncio.sleep(0.05)
        receiver = await receiver_factory(secret, port=port)
    else:
        receiver = await receiver_factory(secret, behaviour=misbehave)
        dispatcher_factory([endpoint(receiver)], timeout_s=0.3)
        await wait_until(lambda: len(receiver.requests) > failing, "the failures")
    await wait_until(lambda: set(receiver.ids()) == set(expected), "every event once back")
    every_id_once_or_repeated_identically(receiver, expected)
    for room in ("r1", "r2", "r3"):
        in_room = [i for i in dict.fromkeys(receiver.ids()) if i.startswith(f"evt_{room}-")]
        assert in_room == [i for i in expected if i.startswith(f"evt_{room}-")]
    assert await list_dead_letters(store, keys) == []


async def test_retry_after_in_seconds_and_as_http_date_is_honoured(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    async def busy(n: int) -> web.StreamResponse | None:
        if n == 1:
            return await status(429, **{"Retry-After": "1"})
        if n == 2:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return await status(503, **{"Retry-After": when})
        return None

    receiver = await receiver_factory(behaviour=busy)
    expected = await add_events(store, keys, ["r1"], 1)
    dispatcher_factory([endpoint(receiver)], initial_backoff_s=0.01, max_backoff_s=10.0)
    await wait_until(lambda: receiver.ids() == expected, "the delivery")
    first, second, third = receiver.requests[:3]
    # Without Retry-After the backoff would be at most 0.01 s, then 0.02 s.
    assert second - first >= 0.95
    assert third - second >= 0.95  # the date is whole seconds, so at least 1 s away


async def test_a_redirect_is_a_failure_and_is_not_followed(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    async def moved(n: int) -> web.StreamResponse | None:
        return await status(302, Location="/elsewhere")

    receiver = await receiver_factory(behaviour=moved)
    await add_events(store, keys, ["r1"], 1)
    dispatcher_factory([endpoint(receiver)], max_attempts=3)
    await wait_until(lambda: len(receiver.requests) >= 3, "three attempts")
    letters = await _wait_dead_letters(store, keys, 1)
    assert letters[0].attempts == 3
    assert letters[0].error.startswith("HTTP 302")
    assert receiver.redirect_hits == 0
    await asyncio.sleep(0.3)
    assert len(receiver.requests) == 3


async def test_gone_stops_that_endpoint_only_and_parks_its_events_in_the_dead_letters(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def gone(n: int) -> web.StreamResponse | None:
        return await status(410)

    retired, alive = await receiver_factory(behaviour=gone), await receiver_factory()
    expected = await add_events(store, keys, ["r1", "r2"], 3)
    caplog.set_level(logging.ERROR, "livecommerce.hooks")
    dispatcher = dispatcher_factory([endpoint(retired), endpoint(alive)])
    await wait_until(lambda: set(alive.ids()) == set(expected), "the live endpoint's events")
    await wait_until(lambda: bool(dispatcher.gone), "the endpoint to be stopped")
    await asyncio.sleep(0.3)
    answered_gone = len(retired.requests)
    assert 1 <= answered_gone <= 2  # the two rooms' first events may have been in flight
    expected += await add_events(store, keys, ["r1", "r3"], 2)
    await wait_until(lambda: set(alive.ids()) == set(expected), "later events")
    await asyncio.sleep(0.3)
    assert len(retired.requests) == answered_gone
    assert list(dispatcher.gone) == [endpoint_id(retired.url)]
    assert any("410" in r.getMessage() and "gone" in r.getMessage() for r in caplog.records)
    # Every event the gone endpoint was owed is parked in the dead letters, unsent (nothing
    # pending forever, nothing lost: each can be replayed), and none of the live one's.
    letters = await _wait_dead_letters(store, keys, len(expected))
    assert sorted(letter.event_id for letter in letters) == sorted(expected)
    assert {letter.endpoint for letter in letters} == {endpoint_id(retired.url)}
    assert all(letter.error.startswith("parked: the endpoint is gone") for letter in letters)
    assert len(retired.requests) == answered_gone
    group = group_name(endpoint_id(retired.url))
    for room in ("r1", "r2", "r3"):
        infos = {i["name"].decode(): i for i in await store.xinfo_groups(keys.outbox(room))}
        assert infos[group]["pending"] == 0
        assert infos[group]["lag"] == 0


async def _wait_dead_letters(store: StoreClient, keys: Keys, count: int) -> list[Any]:
    deadline = time.monotonic() + WAIT_S
    while len(letters := await list_dead_letters(store, keys)) < count:
        assert time.monotonic() < deadline, f"expected {count} dead letters, have {len(letters)}"
        await asyncio.sleep(0.05)
    return letters


async def test_dead_letters_after_max_attempts_then_replay_keeps_the_webhook_id(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    failing = True

    async def broken(n: int) -> web.StreamResponse | None:
        return web.Response(status=500, text="down for maintenance") if failing else None

    receiver = await receiver_factory(behaviour=broken)
    expected = await add_events(store, keys, ["r1", "r2"], 2)
    dispatcher_factory([endpoint(receiver)], max_attempts=3)
    letters = await _wait_dead_letters(store, keys, 4)
    assert sorted(letter.event_id for letter in letters) == sorted(expected)
    assert all(letter.attempts == 3 for letter in letters)
    assert all(letter.error == "HTTP 500: down for maintenance" for letter in letters)
    assert all(letter.url == receiver.url for letter in letters)
    assert await store.hlen(keys.hook_attempts()) == 0
    assert await group_pending(store, keys, "r1", receiver.url) == 0
    assert len(receiver.requests) == 12

    failing = False
    assert await replay(store, keys, [letters[0].id]) == 1
    await wait_until(lambda: receiver.ids() == [letters[0].event_id], "the first replay")
    assert await replay(store, keys, None) == 3
    await wait_until(lambda: len(receiver.delivered) == 4, "every replay")
    every_id_once_or_repeated_identically(receiver, expected)
    assert await list_dead_letters(store, keys) == []
    assert await replay(store, keys, None) == 0


async def test_the_hooks_command_lists_and_replays(
    store: StoreClient,
    keys: Keys,
    settings: Settings,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    failing = True

    async def broken(n: int) -> web.StreamResponse | None:
        return await status(500) if failing else None

    receiver = await receiver_factory(behaviour=broken)
    expected = await add_events(store, keys, ["r1"], 2)
    await store.xadd(keys.outbox("r1"), {"type": "order.paid"})  # no id: dead at once
    dispatcher_factory([endpoint(receiver)], max_attempts=2)
    await _wait_dead_letters(store, keys, 3)

    async def command(*argv: str) -> tuple[int, str]:
        hooks = argparse.ArgumentParser()
        actions = hooks.add_subparsers(dest="hooks_command")
        actions.add_parser("dead-letters").add_argument("--json", action="store_true")
        replay_parser = actions.add_parser("replay")
        replay_parser.add_argument("ids", nargs="*")
        replay_parser.add_argument("--json", action="store_true")
        out = io.StringIO()
        code = await run_command(hooks.parse_args(argv), settings, settings.store.url, out)
        return code, out.getvalue()

    code, table = await command("dead-letters")
    assert code == 0
    assert "evt_r1-0_created" in table
    assert "HTTP 500" in table
    assert "field 'id' is missing" in table
    code, text = await command("dead-letters", "--json")
    assert {letter["event"].get("id") for letter in json.loads(text)} == {*expected, None}
    failing = False
    code, text = await command("replay", "--json", expected[1], "nonsense")
    assert code == 1
    assert json.loads(text)["unknown"] == ["nonsense"]
    await wait_until(lambda: receiver.ids() == [expected[1]], "the replayed event")


async def test_key_rotation_verifies_with_either_secret(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    old, new = new_secret(), new_secret()
    knows_old, knows_new = await receiver_factory(old), await receiver_factory(new)
    expected = await add_events(store, keys, ["r1"], 3)
    dispatcher_factory([endpoint(knows_old, new, old), endpoint(knows_new, new, old)])
    for receiver in (knows_old, knows_new):
        await wait_until(lambda r=receiver: r.ids() == expected, "every event verified")
        assert receiver.rejected == []
    for delivery in knows_old.delivered:
        assert [s[:3] for s in delivery.signature.split(" ")] == ["v1,", "v1,"]


async def test_a_node_stopped_mid_delivery_hands_its_events_to_another(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    release = asyncio.Event()

    async def stuck(n: int) -> web.StreamResponse | None:
        if n == 1:
            await asyncio.wait_for(release.wait(), WAIT_S)
        return None

    receiver = await receiver_factory(behaviour=stuck)
    expected = await add_events(store, keys, ["r1"], 5)
    first = dispatcher_factory([endpoint(receiver)], node="node-a", timeout_s=WAIT_S)
    await wait_until(lambda: len(receiver.requests) == 1, "the first request to hang")
    assert await group_pending(store, keys, "r1", receiver.url) == 5
    await first.stop()
    release.set()
    # claim_idle_s is long: the stopped node handed its entries over, nobody waited for it.
    dispatcher_factory([endpoint(receiver)], node="node-b", claim_idle_s=300.0)
    await wait_until(lambda: set(receiver.ids()) == set(expected), "every event via node-b")
    every_id_once_or_repeated_identically(receiver, expected)
    assert list(dict.fromkeys(receiver.ids())) == expected


async def test_entries_left_pending_by_a_dead_node_are_claimed_after_claim_idle(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    receiver = await receiver_factory()
    group = group_name(endpoint_id(receiver.url))
    expected = await add_events(store, keys, ["r1"], 6)
    await store.xgroup_create(keys.outbox("r1"), group, id="0")
    # A node read three entries, failed twice on the first, and died.
    read = await store.xreadgroup(group, "dead-node", {keys.outbox("r1"): ">"}, count=3)
    first_entry = read[0][1][0][0].decode()
    await store.hset(keys.hook_attempts(), f"{endpoint_id(receiver.url)}|r1|{first_entry}", 2)
    dispatcher_factory([endpoint(receiver)], node="node-b", claim_idle_s=0.5)
    await wait_until(lambda: receiver.ids() == expected, "every event, in order")
    # The dead node's consumer, holding nothing now, is cleaned up.
    consumers = await store.xinfo_consumers(keys.outbox("r1"), group)
    assert {c["name"].decode(): c["pending"] for c in consumers} == {"node-b": 0}
    assert await store.hlen(keys.hook_attempts()) == 0


async def test_attempt_counts_survive_a_restart(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    async def broken(n: int) -> web.StreamResponse | None:
        return await status(500)

    receiver = await receiver_factory(behaviour=broken)
    await add_events(store, keys, ["r1"], 1)
    first = dispatcher_factory([endpoint(receiver)], max_attempts=6, initial_backoff_s=0.2)
    deadline = time.monotonic() + WAIT_S
    while not any(int(v) >= 3 for v in (await store.hgetall(keys.hook_attempts())).values()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await first.stop()
    dispatcher_factory([endpoint(receiver)], node="node-b", max_attempts=6, claim_idle_s=0.5)
    letters = await _wait_dead_letters(store, keys, 1)
    assert letters[0].attempts == 6
    assert 6 <= len(receiver.requests) <= 7  # one may have been cut short by the stop


async def test_garbage_in_the_outbox_is_dead_lettered_and_delivery_goes_on(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    receiver = await receiver_factory()
    good = {"id": "evt_1", "type": "order.paid", "timestamp": str(BASE_TS), "data": "{}"}
    garbage = [
        ({k: v for k, v in good.items() if k != "id"}, "field 'id' is missing"),
        ({**good, "id": "evt_2", "data": "{not json"}, "field 'data' is not valid JSON"),
        ({**good, "id": "evt_3", "data": "[1, 2]"}, "field 'data' must be a JSON object"),
        ({**good, "id": "evt_4", "type": "order.teleported"}, "field 'type' is 'order.teleported'"),
        ({**good, "id": "evt_5", "timestamp": "yesterday"}, "field 'timestamp' must be"),
        ({**good, "id": "evt 6"}, "field 'id' must be"),
        ({"junk": "\xff"}, "field 'id' is missing"),
    ]
    for room in ("r1", "not-a-stream"):
        await store.hsetnx(keys.room(room), "id", room)
    await store.xadd(keys.outbox("r1"), good)
    for fields, _ in garbage:
        await store.xadd(keys.outbox("r1"), fields)
    await store.xadd(keys.outbox("r1"), {**good, "id": "evt_last"})
    await store.set(keys.outbox("not-a-stream"), "oops")
    await store.sadd(keys.outboxes(), "not-a-stream", "r1")
    dispatcher = dispatcher_factory([endpoint(receiver)])
    await wait_until(lambda: receiver.ids() == ["evt_1", "evt_last"], "the good events")
    letters = await _wait_dead_letters(store, keys, len(garbage))
    errors = sorted(letter.error for letter in letters)
    for _, message in garbage:
        assert any(message in error for error in errors), message
    assert all(e.startswith("malformed outbox entry: ") for e in errors)
    assert all(letter.attempts == 0 for letter in letters)
    expected = await add_events(store, keys, ["r1"], 1)
    await wait_until(lambda: receiver.ids()[-1:] == expected, "a later event")
    assert dispatcher.gone == {}


async def test_two_nodes_share_the_work_and_keep_each_rooms_order(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    async def slowish(n: int) -> web.StreamResponse | None:
        await asyncio.sleep(0.005)  # deliveries overlap between the nodes
        return None

    receiver = await receiver_factory(behaviour=slowish)
    rooms = [f"r{i}" for i in range(6)]
    dispatcher_factory([endpoint(receiver)], node="node-a")
    dispatcher_factory([endpoint(receiver)], node="node-b")
    expected: list[str] = []
    for n in range(10):
        for room in rooms:
            expected.append(await add_event(store, keys, room, n))
        await asyncio.sleep(0.01)
    await wait_until(lambda: len(receiver.delivered) >= len(expected), "every event")
    expected += await pass_markers(store, keys, rooms, [receiver])
    assert sorted(receiver.ids()) == sorted(expected)  # each exactly once
    for room in rooms:
        in_room = [i for i in receiver.ids() if i.startswith(f"evt_{room}-")]
        assert in_room == [i for i in expected if i.startswith(f"evt_{room}-")]


async def test_stop_ends_a_long_backoff_wait_and_hands_the_entry_over(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    failing = True

    async def broken(n: int) -> web.StreamResponse | None:
        return await status(503, **{"Retry-After": "3600"}) if failing else None

    receiver = await receiver_factory(behaviour=broken)
    expected = await add_events(store, keys, ["r1"], 2)
    first = dispatcher_factory([endpoint(receiver)], max_backoff_s=3600.0)
    await wait_until(lambda: len(receiver.requests) == 1, "the first attempt")
    async with asyncio.timeout(WAIT_S):  # not an hour
        await first.stop()
    failing = False
    dispatcher_factory([endpoint(receiver)], node="node-b", claim_idle_s=3600.0)
    await wait_until(lambda: receiver.ids() == expected, "delivery by node-b, in order")


async def test_delivered_events_are_trimmed_after_the_retention_and_without_endpoints_by_age(
    store: StoreClient,
    keys: Keys,
    receiver_factory: ReceiverFactory,
    dispatcher_factory: DispatcherFactory,
) -> None:
    receiver = await receiver_factory()
    expected = await add_events(store, keys, ["r1"], 3)
    trim = {"retention_days": 1e-9, "trim_interval_s": 0.05}
    delivering = dispatcher_factory([endpoint(receiver)], **trim)
    await wait_until(lambda: set(receiver.ids()) == set(expected), "the events")
    deadline = time.monotonic() + WAIT_S
    while await store.xlen(keys.outbox("r1")):
        assert time.monotonic() < deadline, "the delivered events to be trimmed"
        await asyncio.sleep(0.05)

    await delivering.stop()
    await add_events(store, keys, ["r2"], 2)
    dispatcher_factory([], node="node-b", **trim)
    while await store.xlen(keys.outbox("r2")):
        assert time.monotonic() < deadline, "the events to be trimmed by age alone"
        await asyncio.sleep(0.05)
