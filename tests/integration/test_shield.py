"""Shield mode: one switch to the strict preset on every node within a second; off puts
back exactly the settings before it; both ends are audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import STORE
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.test_automod import MOD, set_automod


async def shield(cluster: Cluster, room: str, on: bool, node: int = 0) -> Any:
    status, body = await cluster.api(
        "POST", f"/api/rooms/{room}/moderation/shield", cluster.token(*MOD), {"on": on}, node=node
    )
    assert status == 200, body
    return body


async def stored(cluster: Cluster, prefix: str, room: str) -> tuple[dict[Any, Any], Any]:
    store, keys = cluster.apps[0][STORE], Keys(prefix)
    return await store.hgetall(keys.automod(room)), await store.hget(
        keys.room_moderation(room), "slow_mode_s"
    )


async def test_shield_on_and_off_restores_the_settings_exactly(
    cluster: Cluster, key_prefix: str
) -> None:
    room = await cluster.room(anchor="alice")
    before_api = await set_automod(
        cluster,
        room,
        level=1,
        held_terms=["refund"],
        allowed_domains=["myshop.com"],
        hold_links=False,
    )
    status, _ = await cluster.api(
        "POST", f"/api/rooms/{room}/moderation/slow-mode", cluster.token(*MOD), {"interval_s": 3}
    )
    assert status == 200
    before = await stored(cluster, key_prefix, room)
    viewers = [await cluster.join(room, f"v{n}", node=n) for n in (0, 1)]
    moderator = await cluster.join(room, "mia", role="moderator", node=1)

    body = await shield(cluster, room, True)
    assert body["changed"] is True
    assert body["slow_mode_s"] == 10
    on = body["settings"]
    assert on["shield"] is True
    assert on["level"] == 2
    assert on["effective"] == {
        "links": True,
        "contacts": True,
        "spam": True,
        "lookalikes": False,
        "first_time": True,
    }
    assert on["held_terms"] == ["refund"]  # the room's own lists stay in force
    for viewer in viewers:
        assert (await viewer.wait_for("shield"))["on"] is True
        assert (await viewer.wait_for("slow_mode"))["interval_s"] == 10
    assert (await moderator.wait_for("automod"))["settings"]["shield"] is True
    again = await shield(cluster, room, True, node=1)
    assert again["changed"] is False
    assert again["audit_id"] is None

    body = await shield(cluster, room, False, node=1)
    assert body["changed"] is True
    assert body["slow_mode_s"] == 3
    assert await stored(cluster, key_prefix, room) == before
    assert body["settings"] == before_api
    for viewer in viewers:
        await viewer.wait_for(lambda f: f.get("type") == "shield" and f["on"] is False)
        await viewer.wait_for(lambda f: f.get("type") == "slow_mode" and f["interval_s"] == 3)
    status, log = await cluster.api("GET", f"/api/rooms/{room}/moderation/log", cluster.token(*MOD))
    assert [e["action"] for e in log["entries"][:2]] == ["shield-off", "shield-on"]
    assert {e["actor"] for e in log["entries"][:2]} == {"mia"}
    for client in (*viewers, moderator):
        await client.close()


async def test_a_room_without_settings_goes_back_to_none(cluster: Cluster, key_prefix: str) -> None:
    room = await cluster.room()
    assert await stored(cluster, key_prefix, room) == ({}, None)
    await shield(cluster, room, True)
    await shield(cluster, room, False)
    assert await stored(cluster, key_prefix, room) == ({}, None)


async def test_shield_holds_first_time_chatters_and_slows_chat_on_every_node_within_a_second(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    regular = await cluster.join(room, "reg", node=1)
    await regular.send({"type": "chat", "text": "hello"})
    await regular.wait_for(lambda f: f.get("text") == "hello")
    newcomer = await cluster.join(room, "new", node=1)
    await shield(cluster, room, True, node=0)
    await asyncio.sleep(1.0)
    await newcomer.send({"type": "chat", "text": "first!"})
    assert (await newcomer.wait_for("chat_held"))["rule"] == "first_time"
    await regular.send({"type": "chat", "text": "see evil.com"})
    frame = await regular.wait_for(
        lambda f: f.get("type") in ("chat_held", "error") and f is not None
    )
    assert frame["type"] == "error"  # slow mode came first: 10 s since "hello"
    assert frame["code"] == "slow_mode"
    await shield(cluster, room, False, node=1)
    await asyncio.sleep(1.0)
    await newcomer.send({"type": "chat", "text": "second"})
    await regular.wait_for(lambda f: f.get("text") == "second")
    for client in (regular, newcomer):
        await client.close()


@pytest.fixture
async def buyers_only(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"moderation": {"shield_buyers_only": True, "shield_slow_mode_s": 0}}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def test_shield_can_limit_chat_to_the_rooms_buyers(
    buyers_only: Cluster, key_prefix: str
) -> None:
    cluster = buyers_only
    room = await cluster.room(anchor="alice")
    await cluster.apps[0][STORE].sadd(Keys(key_prefix).room_buyers(room), "buyer")
    # An auction's winner or a replay's buyer is a buyer too (the room's other buyers).
    await cluster.apps[0][STORE].sadd(Keys(key_prefix).room_other_buyers(room), "winner")
    buyer = await cluster.join(room, "buyer")
    winner = await cluster.join(room, "winner")
    browser = await cluster.join(room, "browser", node=1)
    for client in (buyer, winner, browser):
        await client.send({"type": "chat", "text": f"hi from {client.frames[0]['you']['user']}"})
    await browser.wait_for(lambda f: f.get("text") == "hi from browser")
    await browser.wait_for(lambda f: f.get("text") == "hi from winner")
    body = await shield(cluster, room, True)
    assert body["settings"]["buyers_only"] is True
    await asyncio.sleep(1.0)
    await browser.send({"type": "chat", "text": "may I?"})
    assert (await browser.wait_for("error"))["code"] == "buyers_only"
    await buyer.send({"type": "chat", "text": "I bought it"})
    await browser.wait_for(lambda f: f.get("text") == "I bought it")
    await winner.send({"type": "chat", "text": "I won it"})
    await browser.wait_for(lambda f: f.get("text") == "I won it")
    for client in (buyer, winner, browser):
        await client.close()
