"""After a full scenario through the real app, every key in the store belongs to a family
that livecommerce/store/keys.py documents, and carries that family's bound.

The families and their bounds are read from the schema's docstring (the one source
docs/store.md is generated from): a ``TTL`` family's keys must expire, a ``MAXLEN``
stream must be within its cap, a ``trim:`` or ``fixed:`` family's keys must be of the
documented type (and the outbox, a ``trim:`` family, must have been trimmed once every
endpoint acknowledged it).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from livecommerce.app import STORE_CONTEXT
from livecommerce.channel.presence import Presence
from livecommerce.config import Settings
from livecommerce.hooks.admin import list_dead_letters
from livecommerce.nodes.registry import NodeRegistry
from livecommerce.store.client import StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import ROOMS, SETTINGS, STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import product, sale
from tests.integration.every_format import run_every_format
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.webhook_receiver import Receiver, new_secret, status
from tests.test_store_key_table import generator

PLACEHOLDER_PATTERNS = {
    "ROOM": r"[^:{}]+",
    "SALE": r"[^:{}]+",
    "ORDER": r"[^:{}]+",
    "REPLAY": r"[^:{}]+",
    "USER": r"[^{}]+",
    "SLOT": r"-?\d+",
    "MSG": r"[0-9]+-[0-9]+",
    "YYYY-MM-DD": r"\d{4}-\d{2}-\d{2}",
    "STEP": r"[a-z_]+",
    "VOUCHER": r"[^:{}]+",
    "AUCTION": r"[^:{}]+",
    "GIVEAWAY": r"[^:{}]+",
}
# What TYPE answers for each documented type (a HyperLogLog is a string to the store).
STORE_TYPES = {"HyperLogLog": "string"}
FINAL_ORDER_STATES = {"paid", "cancelled", "expired"}
# XADD MAXLEN ~ trims whole macro nodes: a capped stream may exceed its cap by up to one.
MAXLEN_SLACK = 100
WAIT_S = 15.0
# The families a voucher, an auction and a giveaway leave (test_formats_store_bounds.py too).
SELLING_FORMAT_FAMILIES = (
    "P{r:ROOM}:voucher:VOUCHER",
    "P{r:ROOM}:vouchers",
    "P{r:ROOM}:voucher:VOUCHER:users",
    "P{r:ROOM}:voucher:VOUCHER:keys",
    "P{r:ROOM}:claims",
    "P{r:ROOM}:wallets",
    "P{r:ROOM}:vouchers:pinned",
    "P{r:ROOM}:auction:AUCTION",
    "P{r:ROOM}:auctions",
    "P{r:ROOM}:auction:AUCTION:keys",
    "P{r:ROOM}:gw:GIVEAWAY",
    "P{r:ROOM}:giveaways",
    "P{r:ROOM}:gw:GIVEAWAY:entrants",
    "P{r:ROOM}:gw:GIVEAWAY:said",
)
# The families of the next wave's formats the scenario reaches (every_format.py).
FORMAT_FAMILIES = (
    *SELLING_FORMAT_FAMILIES,
    "P{r:ROOM}:automod",
    "P{r:ROOM}:chatters",
    "P{r:ROOM}:review",
    "P{r:ROOM}:review:items",
    "P{r:ROOM}:reports:MSG",
    "P{r:ROOM}:reports:by:USER",
    "P{r:ROOM}:replay:REPLAY",
    "P{r:ROOM}:replays",
    "P{r:ROOM}:replay:REPLAY:timeline",
    "Preplays:recent",
    "P{r:ROOM}:sale:SALE",
    "P{r:ROOM}:products",
)


@dataclass(frozen=True)
class Family:
    key: str  # as the docstring writes it: P{r:ROOM}:chat
    type: str
    retention: str
    pattern: re.Pattern[str]


def families(prefix: str) -> list[Family]:
    tables = generator.schema_tables()
    bounds = generator.retention_of(tables["key"], tables["family"])
    result = []
    for cell, kind, _ in tables["key"].rows:
        key = re.sub(r"``(.+?)``", r"\1", cell)
        pattern = re.escape(key.removeprefix(generator.DOC_PREFIX))
        for placeholder, part in PLACEHOLDER_PATTERNS.items():
            pattern = pattern.replace(re.escape(placeholder), part)
        regex = re.compile(re.escape(prefix) + pattern)
        result.append(Family(key, kind, bounds[cell], regex))
    return result


def family_of(key: str, known: list[Family]) -> Family | None:
    matches = [family for family in known if family.pattern.fullmatch(key)]
    assert len(matches) <= 1, f"{key} matches several families: {[m.key for m in matches]}"
    return matches[0] if matches else None


def setting(settings: Settings, retention: str) -> int:
    """The value of the setting a ``MAXLEN ~ ``section.key`` `` bound names."""
    found = re.search(r"``(\w+)\.(\w+)``", retention)
    assert found, f"a MAXLEN bound names no setting: {retention!r}"
    return int(getattr(getattr(settings, found.group(1)), found.group(2)))


async def bound_problem(
    store: StoreClient, settings: Settings, key: str, family: Family
) -> str | None:
    """What is wrong with ``key``'s bound, or None."""
    kind = as_text(await store.type(key))
    if kind != STORE_TYPES.get(family.type, family.type):
        return f"is a {kind}, documented as a {family.type}"
    retention = family.retention
    ttl = int(await store.pttl(key))
    if retention.startswith("TTL once final"):
        state = await store.hget(key, "status")
        if state is not None and as_text(state) in FINAL_ORDER_STATES and ttl <= 0:
            return f"is {as_text(state)} and has no expiry"
        return None
    if retention.startswith("TTL"):
        return None if ttl > 0 else "has no expiry"
    if retention.startswith("MAXLEN"):
        cap = setting(settings, retention)
        length = int(await store.xlen(key))
        return None if length <= cap + MAXLEN_SLACK else f"holds {length} > {cap} entries"
    if retention.startswith(("trim:", "fixed:")):
        return None
    return f"has a bound of no known kind: {retention!r}"


async def scan(store: StoreClient, prefix: str) -> list[str]:
    return sorted([as_text(key) async for key in store.scan_iter(match=f"{prefix}*", count=500)])


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await condition():
        assert time.monotonic() < deadline, f"waited {WAIT_S} s for {what}"
        await asyncio.sleep(0.05)


async def gone(n: int) -> web.StreamResponse | None:
    return await status(410)


@pytest.fixture
async def receivers() -> AsyncIterator[tuple[Receiver, Receiver]]:
    alive = await Receiver(new_secret()).start()
    retired = await Receiver(new_secret(), behaviour=gone).start()
    yield alive, retired
    await alive.stop()
    await retired.stop()


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    receivers: tuple[Receiver, Receiver],
) -> AsyncIterator[Cluster]:
    hooks: dict[str, Any] = {
        "endpoints": [{"url": r.url, "secret": r.secret} for r in receivers],
        "poll_interval_s": 0.05,
        "initial_backoff_s": 0.02,
        "max_backoff_s": 0.2,
        # Delivered entries are trimmed at once: the scan sees the trim's result.
        "retention_days": 1e-9,
        "trim_interval_s": 0.1,
    }
    sections = {
        "hooks": hooks,
        "moderation": {"audit_log_size": 5},
        "analytics": {"watch_interval_s": 0.1},
        # An ended room is deleted as soon as its outbox is empty: the scan sees it gone.
        "rooms": {"retention_days": 1e-9, "sweep_interval_s": 0.1},
    }
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections, history_size=5
    ):
        yield value


async def scenario(cluster: Cluster) -> tuple[list[str], list[str]]:
    """Rooms, live, chat, likes, moderation, a sale with buys, payments, cancels and
    expiries, discovery, every format of tests/integration/every_format.py in both rooms,
    rooms ended; the ids of the rooms and of the order events."""
    app = cluster.apps[0]
    anchor, backend = cluster.token("anchor", "alice"), cluster.token("backend", "shop")
    mod = cluster.token("moderator", "mia")
    rooms = [await cluster.room(anchor="alice", title=f"Room {n}") for n in range(2)]
    for each in rooms:
        await run_every_format(cluster, each)
    room = rooms[0]
    publisher = await publisher_offer(synthetic_tracks())
    assert publisher.localDescription is not None
    async with cluster.http.post(
        f"{cluster.urls[0]}/whip/{room}",
        data=publisher.localDescription.sdp.encode(),
        headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {anchor}"},
    ) as response:
        assert response.status == 201, await response.text()
        await accept(publisher, await response.text())
        session = response.headers["Location"]

    async def live() -> bool:
        return (await cluster.api("GET", f"/api/rooms/{room}"))[1]["status"] == "live"

    await wait_for(live, "the room to go live over WHIP")
    # A WHEP viewer on the other node (it pulls the room from its origin).
    watcher = Viewer()
    async with cluster.http.post(
        f"{cluster.urls[1]}/whep/{room}",
        data=(await watcher.offer()).encode(),
        headers={"Content-Type": "application/sdp"},
    ) as response:
        assert response.status == 201, await response.text()
        await accept(watcher.pc, await response.text())
    await watcher.wait_frames("video", 5, timeout_s=20)
    # A node that dies: its registry entry and its viewer count stay behind, as a
    # SIGKILLed node leaves them (written by the same code, never removed).
    store = app[STORE_CONTEXT]
    dead = NodeRegistry(
        client=store.client, keys=store.keys, node_id="deadnode", url="http://10.0.0.9:1",
        heartbeat_s=0.05,
    )  # fmt: skip
    await dead.beat_once()
    await Presence(store=store, node_id="deadnode", ttl_s=0.1).report(room, 3)
    await app[ROOMS].go_live(rooms[1], "session-1", cluster.urls[0], ttl_ms=15_000)
    viewers = [await cluster.join(room, user, node=n % 2) for n, user in enumerate("abcd")]
    for n, viewer in enumerate(viewers):
        for line in range(3):
            await viewer.send({"type": "chat", "text": f"hello {line} from {n}"})
        await viewer.send({"type": "like", "count": 2})
    chat = await viewers[0].wait_for("chat")
    for action, body in [
        ("mute-user", {"user": "b", "duration_s": 60}),
        ("ban", {"user": "c"}),
        ("unban", {"user": "c"}),
        ("slow-mode", {"interval_s": 2}),
        ("mute-room", {}),
        ("unmute-room", {}),
    ]:
        got = await cluster.api("POST", f"/api/rooms/{room}/moderation/{action}", mod, body)
        assert got[0] == 200, (action, got)
    deleted = await cluster.api("DELETE", f"/api/rooms/{room}/messages/{chat['id']}", mod)
    assert deleted[0] == 200, deleted

    item = await product(cluster, room)
    assert (
        await cluster.api("POST", f"/api/rooms/{room}/pin", anchor, {"product_id": item["id"]})
    )[0] == 200
    opened = await sale(cluster, room, item["id"], per_user_limit=5, reservation_ttl_s=1)
    orders = []
    for n, key in enumerate(["pay", "cancel", "expire", "repeat"]):
        buyer = viewers[n % 2]
        await buyer.send({"type": "buy", "sale": opened["id"], "qty": 1, "key": key})
        answer = await buyer.wait_for(
            lambda f, k=key: f.get("type") == "buy_result" and f["key"] == k
        )
        assert answer["ok"] is True, answer
        orders.append(str(answer["order"]))
    assert (await cluster.api("POST", f"/api/orders/{orders[0]}/paid", backend))[0] == 200
    assert (await cluster.api("POST", f"/api/orders/{orders[1]}/cancel", backend))[0] == 200

    async def expired() -> bool:
        answers = [await cluster.api("GET", f"/api/orders/{o}", backend) for o in orders[2:]]
        return all(body["status"] == "expired" for _, body in answers)

    await wait_for(expired, "the sweeper to expire two orders")
    listed = await cluster.api("GET", "/api/rooms?status=live", node=1)
    assert listed[0] == 200, listed
    assert (await cluster.api("POST", f"/api/rooms/{room}/sales/{opened['id']}/stop", anchor))[
        0
    ] == 200
    for viewer in viewers:
        await viewer.close()
    await watcher.close()
    async with cluster.http.delete(
        cluster.urls[0] + session, headers={"Authorization": f"Bearer {anchor}"}
    ) as response:
        assert response.status == 200, await response.text()
    await publisher.close()
    # The busy room stays (its keys are scanned); the other ends and is deleted.
    assert (await cluster.api("POST", f"/api/rooms/{rooms[1]}/end", anchor))[0] == 200
    events = [f"evt_{o}_{kind}" for o in orders for kind in ("created",)]
    events += [f"evt_{orders[0]}_paid", f"evt_{orders[1]}_cancelled"]
    events += [f"evt_{o}_expired" for o in orders[2:]]
    return rooms, events


async def test_every_key_after_a_full_scenario_is_documented_and_bounded(
    cluster: Cluster, receivers: tuple[Receiver, Receiver]
) -> None:
    alive, retired = receivers
    app = cluster.apps[0]
    settings, store = app[SETTINGS], app[STORE]
    keys = Keys(settings.store.key_prefix)
    rooms, events = await scenario(cluster)

    async def delivered() -> bool:
        return set(events) <= set(alive.ids())

    async def parked() -> bool:
        letters = await list_dead_letters(store, keys)
        return {letter.event_id for letter in letters} >= set(events)

    async def trimmed() -> bool:
        return int(await store.xlen(keys.outbox(rooms[0]))) == 0

    await wait_for(delivered, "every order event at the live endpoint")
    await wait_for(parked, "every order event parked for the gone (410) endpoint")
    await wait_for(trimmed, "the outbox trimmed once both endpoints are done with it")

    known = families(settings.store.key_prefix)

    async def deleted() -> bool:
        return await store.zscore(keys.rooms_index(), rooms[1]) is None

    await wait_for(deleted, "the ended room deleted by the retention sweep")
    # What the ended room (it ran every format) leaves behind expires on its own: its
    # orders, like budgets, replays; no key that waits for the room's deletion.
    left = [key async for key in store.scan_iter(match=f"*{{r:{rooms[1]}}}*", count=500)]
    waiting = {}
    for key in map(as_text, left):
        family = family_of(key, known)
        if family is None or not family.retention.startswith("TTL"):
            waiting[key] = family.retention if family else "no family"
        elif int(await store.pttl(key)) <= 0:
            waiting[key] = "no expiry"
    assert waiting == {}, "keys the deleted room left behind without an expiry"
    found = await scan(store, settings.store.key_prefix)
    undocumented = [key for key in found if family_of(key, known) is None]
    assert undocumented == [], "keys that match no family of livecommerce/store/keys.py"
    problems = {}
    for key in found:
        family = family_of(key, known)
        assert family is not None
        problem = await bound_problem(store, settings, key, family)
        if problem:
            problems[key] = f"{family.key} ({family.retention}): {problem}"
    assert problems == {}
    seen = {family.key for key in found if (family := family_of(key, known))}
    # The scenario reaches most families, so the checks above are not vacuous.
    for wanted in (
        "P{r:ROOM}:order:ORDER",
        "P{r:ROOM}:outbox",
        "P{r:ROOM}:chat",
        "P{r:ROOM}:audit",
        "Pdab:YYYY-MM-DD",
        "Phooks:dead",
        "P{r:ROOM}:sale:SALE:idempotency",
        "P{r:ROOM}:engagement",
        "P{r:ROOM}:likes:USER",
        "P{r:ROOM}:chat:bucket",
        "P{r:ROOM}:analytics",
        "P{r:ROOM}:analytics:users:STEP",
        "P{r:ROOM}:analytics:marks",
        # (The frozen report goes with its ended room, which the scenario deletes; its TTL
        # is checked by tests/integration/test_analytics.py.)
        "P{r:ROOM}:watch",
        "P{r:ROOM}:watch:span",
        "Pnodes",
        "P{schema}:version",
        *FORMAT_FAMILIES,
    ):
        assert wanted in seen, wanted
    assert len(seen) >= 50, sorted(seen)
    assert len(retired.delivered) == 0
    # The dead node's viewer count was trimmed by the live nodes' counting.
    assert not await store.hexists(keys.room_presence(rooms[0]), "deadnode")
