"""Order hooks end to end with real nodes: events written by the reserve and settle
scripts, delivered to a verifying receiver even when the node sending them is
SIGKILLed in the middle of a delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from livecommerce.auth import Role, issue_token
from livecommerce.hooks.endpoints import endpoint_id, group_name
from livecommerce.store import client as store_client
from livecommerce.store.decoding import decode_entries
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from tests.integration.channel_client import ChannelClient
from tests.integration.nodes import Node, clean_env, wait_gone
from tests.integration.webhook_receiver import Receiver, new_secret

pytestmark = pytest.mark.slow

SECRET = "hooks-process-test-secret-0123456789abcdef"
BUYERS = 20


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def node_config(path: Path, valkey: EmbeddedValkey, key_prefix: str, receiver: Receiver) -> Path:
    path.write_text(
        f"""
[store]
url = "{valkey.url}"
key_prefix = "{key_prefix}"

[auth]
secret = "{SECRET}"

[hooks]
endpoints = [{{url = "{receiver.url}", secret = "{receiver.secret}"}}]
max_attempts = 100
initial_backoff_s = 0.05
max_backoff_s = 0.5
timeout_s = 60.0
poll_interval_s = 0.05
claim_idle_s = 1.0
"""
    )
    return path


def token(role: Role, user: str) -> str:
    return issue_token(SECRET, role, user, ttl_s=600)


async def api(
    session: aiohttp.ClientSession, node: Node, method: str, path: str, who: str, body: Any = None
) -> Any:
    async with session.request(
        method, node.url + path, json=body, headers={"Authorization": f"Bearer {who}"}
    ) as response:
        answer = await response.json()
        assert response.status < 300, answer
        return answer


async def outbox_ids(keys: Keys, valkey: EmbeddedValkey, room: str) -> list[str]:
    client = store_client.connect(valkey.url, 2.0, 5.0, 0)
    try:
        return [
            fields["id"] for _, fields in decode_entries(await client.xrange(keys.outbox(room)))
        ]
    finally:
        await client.aclose()


async def pending_of(keys: Keys, valkey: EmbeddedValkey, room: str, url: str) -> int:
    client = store_client.connect(valkey.url, 2.0, 5.0, 0)
    try:
        for info in await client.xinfo_groups(keys.outbox(room)):
            if info["name"].decode() == group_name(endpoint_id(url)):
                return int(info["pending"])
        return 0
    finally:
        await client.aclose()


async def eventually(check: Any, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(180)
async def test_events_from_real_buys_survive_the_dispatching_node_being_killed(
    tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str, nodes: list[Node]
) -> None:
    held = asyncio.Event()
    release = asyncio.Event()

    async def hang_until_released(n: int) -> web.StreamResponse | None:
        if release.is_set():
            return None
        held.set()
        await release.wait()
        return web.Response(status=503)

    receiver = await Receiver(new_secret(), behaviour=hang_until_released).start()
    config = node_config(tmp_path / "node.toml", valkey, key_prefix, receiver)
    keys = Keys(key_prefix)
    try:
        node_a = Node(tmp_path / "a", "--config", str(config), env=clean_env())
        nodes.append(node_a)
        node_a.wait_ready()
        anchor = token(Role.anchor, "alice")
        async with aiohttp.ClientSession() as session:
            room = (await api(session, node_a, "POST", "/api/rooms", anchor, {"title": "t"}))["id"]
            product = await api(
                session,
                node_a,
                "POST",
                f"/api/rooms/{room}/products",
                anchor,
                {"sku": "S", "title": "Scarf", "price_cents": 5000, "currency": "EUR"},
            )
            sale = await api(
                session,
                node_a,
                "POST",
                f"/api/rooms/{room}/sales",
                anchor,
                {
                    "product_id": product["id"],
                    "price_cents": 2500,
                    "quantity": BUYERS,
                    "per_user_limit": 1,
                    "duration_s": 600,
                    "reservation_ttl_s": 600,
                },
            )
            buyers = [
                await ChannelClient.connect(
                    session, node_a.url, room, token(Role.viewer, f"buyer{n}")
                )
                for n in range(BUYERS)
            ]
            for n, buyer in enumerate(buyers):
                await buyer.wait_for("welcome")
                await buyer.send({"type": "buy", "sale": sale["id"], "qty": 1, "key": f"k{n}"})
            results = [await buyer.wait_for("buy_result") for buyer in buyers]
            assert all(result["ok"] for result in results), results
            for buyer in buyers:
                await buyer.close()

            # Node A is in the middle of delivering: its request hangs, its entries pend.
            await asyncio.wait_for(held.wait(), 30)

            async def a_holds_entries() -> bool:
                return await pending_of(keys, valkey, room, receiver.url) > 0

            await eventually(a_holds_entries, "node A to hold pending entries")
            node_a.process.kill()
            assert wait_gone(node_a.process.pid, 10)

            node_b = Node(tmp_path / "b", "--config", str(config), env=clean_env())
            nodes.append(node_b)
            node_b.wait_ready()
            # The backend pays one order through node B: order.paid joins the stream.
            paid = results[0]["order"]
            await api(session, node_b, "POST", f"/api/orders/{paid}/paid", token(Role.backend, "b"))
            release.set()

            expected = await outbox_ids(keys, valkey, room)
            assert len(expected) == BUYERS + 1

            async def all_delivered() -> bool:
                return set(receiver.ids()) == set(expected)

            await eventually(all_delivered, "node B to deliver every event", timeout_s=60)
    finally:
        release.set()
        await receiver.stop()

    assert receiver.rejected == []
    assert all(len(bodies) == 1 for bodies in receiver.bodies_by_id().values())
    payloads = {d.webhook_id: d.payload for d in receiver.delivered}
    created = [p for p in payloads.values() if p["type"] == "order.created"]
    assert sorted(p["data"]["id"] for p in created) == sorted(r["order"] for r in results)
    assert [p["data"]["id"] for p in payloads.values() if p["type"] == "order.paid"] == [paid]
