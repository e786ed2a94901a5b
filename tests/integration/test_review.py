"""The review queue across two nodes: approve publishes to everyone within 500 ms, deny
drops (with an optional timeout), two moderators never both decide one item, the queue
lives in the store (a new node sees it) and old items expire; every step is audited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.web.state import STORE
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.channel_client import ChannelClient, pass_marker
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.test_automod import review_queue, set_automod

MOD = ("moderator", "mia")
OTHER_MOD = ("moderator", "max")


async def decide(
    cluster: Cluster,
    room: str,
    item: str,
    decision: str,
    body: Any = None,
    who: tuple[str, str] = MOD,
    node: int = 0,
) -> tuple[int, Any]:
    return await cluster.api(
        "POST", f"/api/rooms/{room}/review/{item}/{decision}", cluster.token(*who), body, node=node
    )


async def hold(sender: ChannelClient, text: str) -> dict[str, Any]:
    mark = len(sender.frames)
    await sender.send({"type": "chat", "text": text})
    frame = await sender.wait_for(
        lambda f: f.get("type") in ("chat_held", "chat", "error"), timeout_s=15, after=mark
    )
    assert frame["type"] == "chat_held", frame
    return frame


async def test_approving_publishes_to_every_node(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    await set_automod(cluster, room, level=2)
    sender = await cluster.join(room, "vic", node=0)
    far = await cluster.join(room, "far", node=1)
    near = await cluster.join(room, "near", node=0)
    held = await hold(sender, "deal at evil.com")

    started = time.monotonic()
    status, body = await decide(cluster, room, held["id"], "approve", node=0)
    assert status == 200, body
    chat = await far.wait_for(lambda f: f.get("text") == "deal at evil.com", timeout_s=10)
    print(f"approve reached the other node after {time.monotonic() - started:.3f} s")
    assert chat["id"] == body["chat_id"]
    assert chat["user"] == "vic"
    await near.wait_for(lambda f: f.get("id") == body["chat_id"])
    approved = await sender.wait_for("chat_approved")
    assert approved == {"type": "chat_approved", "id": held["id"], "chat_id": body["chat_id"]}
    await sender.wait_for(lambda f: f.get("id") == body["chat_id"])
    late = await cluster.join(room, "late", node=1)
    assert "deal at evil.com" in [m["text"] for m in late.of_type("welcome")[0]["messages"]]
    assert await review_queue(cluster, room) == []
    for client in (sender, far, near, late):
        await client.close()


async def test_denying_drops_the_message_and_may_time_its_author_out(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    await set_automod(cluster, room, level=1)
    sender = await cluster.join(room, "vic", node=1)
    other = await cluster.join(room, "oli", node=0)
    moderator = await cluster.join(room, "mia", role="moderator", node=1)
    held = await hold(sender, "venmo me $vic123")
    status, body = await decide(cluster, room, held["id"], "deny", {"timeout_s": 60})
    assert status == 200, body
    assert body["chat_id"] is None
    assert body["timeout_until"] > 0
    assert (await sender.wait_for("chat_denied"))["id"] == held["id"]
    assert (await sender.wait_for("muted"))["until"] == body["timeout_until"]
    resolved = await moderator.wait_for("review_resolved")
    assert resolved == {
        "type": "review_resolved",
        "id": held["id"],
        "decision": "deny",
        "by": "mia",
        "chat_id": None,
    }
    await sender.send({"type": "chat", "text": "why?"})
    assert (await sender.wait_for("error"))["code"] == "muted"
    await pass_marker(moderator, other, text="marker")
    assert "venmo me $vic123" not in [f.get("text") for f in other.frames]
    for client in (sender, other, moderator):
        await client.close()


async def test_two_moderators_deciding_at_once_exactly_one_wins(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    await set_automod(cluster, room, level=1)
    reader = await cluster.join(room, "rita", node=1)
    senders = [await cluster.join(room, f"s{n}", node=n % 2) for n in range(10)]
    held = [await hold(sender, f"call me 555-000-{n:04d}") for n, sender in enumerate(senders)]

    async def race(item: str) -> list[tuple[int, Any]]:
        return list(
            await asyncio.gather(
                decide(cluster, room, item, "approve", node=0),
                decide(cluster, room, item, "deny", {"timeout_s": 5}, who=OTHER_MOD, node=1),
            )
        )

    results = await asyncio.gather(*(race(h["id"]) for h in held))
    approved = 0
    for (first, second), item in zip(results, held, strict=True):
        statuses = sorted([first[0], second[0]])
        assert statuses == [200, 404], (item, first, second)
        loser = first if first[0] == 404 else second
        assert loser[1]["error"]["code"] == "review_item_not_found"
        approved += first[0] == 200

    def is_published(frame: dict[str, Any]) -> bool:
        return frame.get("type") == "chat" and str(frame.get("text")).startswith("call me 555")

    await reader.wait_count(is_published, approved, timeout_s=15)
    # A sender may have just been timed out by a deny, so the reader posts the marker.
    await pass_marker(reader, text="after the race")
    assert len([f for f in reader.frames if is_published(f)]) == approved
    status, log = await cluster.api(
        "GET", f"/api/rooms/{room}/moderation/log?limit=100", cluster.token(*MOD)
    )
    assert status == 200
    decisions = [e for e in log["entries"] if e["action"] in ("approve", "deny")]
    assert len(decisions) == len(held)
    assert sorted(e["message"] for e in decisions) == sorted(h["id"] for h in held)
    holds = [e for e in log["entries"] if e["action"] == "hold"]
    assert {e["actor"] for e in holds} == {"automod"}
    assert {e["rule"] for e in holds} == {"phone"}
    for client in (reader, *senders):
        await client.close()


@pytest.fixture
async def short_queue(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"moderation": {"review_ttl_s": 1, "review_queue_size": 3}}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def test_old_items_expire_and_the_queue_keeps_the_newest(
    short_queue: Cluster, key_prefix: str
) -> None:
    cluster = short_queue
    room = await cluster.room()
    await set_automod(cluster, room, level=1)
    sender = await cluster.join(room, "vic")
    held = [await hold(sender, f"call 555-111-{n:04d}") for n in range(4)]
    queue = await review_queue(cluster, room)
    assert [item["id"] for item in queue] == [h["id"] for h in held[1:]]
    await asyncio.sleep(1.3)
    assert await review_queue(cluster, room) == []
    status, body = await decide(cluster, room, held[-1]["id"], "approve")
    assert status == 404
    assert body["error"]["code"] == "review_item_not_found"
    store, keys = cluster.apps[0][STORE], Keys(key_prefix)
    assert await store.exists(keys.review_index(room), keys.review_items(room)) == 0
    await sender.close()


async def test_the_queue_lives_in_the_store_and_a_restarted_node_serves_it(
    aiohttp_client: ClientFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    settings = make_settings(valkey.url, tmp_path, key_prefix)
    first: TestClient = await aiohttp_client(create_app(settings))
    headers = {"Authorization": f"Bearer {token('anchor', 'alice')}"}
    response = await first.post("/api/rooms", json={"title": "t"}, headers=headers)
    room = (await response.json())["id"]
    mod = {"Authorization": f"Bearer {token('moderator', 'mia')}"}
    response = await first.post(
        f"/api/rooms/{room}/moderation/automod", json={"level": 1}, headers=mod
    )
    assert response.status == 200
    ws = await first.ws_connect(f"/ws/rooms/{room}?format=json&token={token('viewer', 'vic')}")
    await ws.receive_json()  # welcome
    await ws.send_json({"type": "chat", "text": "email me at vic@example.org"})
    held = await ws.receive_json()
    assert held["type"] == "chat_held"
    await ws.close()
    await first.close()  # the node stops

    second: TestClient = await aiohttp_client(create_app(settings))
    response = await second.get(f"/api/rooms/{room}/review", headers=mod)
    items = (await response.json())["items"]
    assert [(i["id"], i["text"], i["rule"]) for i in items] == [
        (held["id"], "email me at vic@example.org", "email")
    ]
    response = await second.post(f"/api/rooms/{room}/review/{held['id']}/approve", headers=mod)
    assert response.status == 200
    await second.close()
