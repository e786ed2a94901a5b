"""A token that expires while its socket is open loses its rights at expiry (issue 11,
item 3): the socket gets a ``token_expired`` error frame and is closed with 4401."""

from __future__ import annotations

import asyncio
import contextlib
import time

import jwt
import pytest

from tests.integration.channel_client import ChannelClient, pass_marker
from tests.integration.cluster import Cluster, cluster_with

TTL_S = 2


cluster = cluster_with()


@pytest.mark.parametrize("wire", ["json", "msgpack"])
async def test_a_socket_is_closed_when_its_token_expires(cluster: Cluster, wire: str) -> None:
    room = await cluster.room()
    short = cluster.token("viewer", "brief", None, TTL_S)
    expires_at = jwt.decode(short, options={"verify_signature": False})["exp"]
    client = await ChannelClient.connect(cluster.http, cluster.urls[0], room, short, wire)
    await client.wait_for("welcome")
    await client.send({"type": "chat", "text": "while my token is good"})
    await client.wait_for("chat")

    error = await client.wait_for("error", timeout_s=TTL_S + 3)
    assert error["code"] == "token_expired"
    assert time.time() >= expires_at - 0.05  # (clock granularity)
    assert await client.wait_closed() == 4401
    # Nothing it tried to say around its expiry reached the room.
    watcher = await cluster.join(room, "watcher", node=1)
    assert [m["text"] for m in watcher.of_type("welcome")[0]["messages"]] == [
        "while my token is good"
    ]
    await watcher.close()


async def test_nothing_is_accepted_at_or_after_expiry(cluster: Cluster) -> None:
    room = await cluster.room()
    late = cluster.token("viewer", "late", None, TTL_S)
    expires_ms = jwt.decode(late, options={"verify_signature": False})["exp"] * 1000
    client = await ChannelClient.connect(cluster.http, cluster.urls[0], room, late, "json")
    await client.wait_for("welcome")
    watcher = await cluster.join(room, "watcher", node=1)
    # Chat and like flat out across the expiry, within the chat rate limit.
    deadline = time.monotonic() + TTL_S + 3
    while not client.closed.is_set() and time.monotonic() < deadline:
        with contextlib.suppress(ConnectionError):
            await client.send({"type": "chat", "text": "still here?"})
            await client.send({"type": "like", "count": 1})
        await asyncio.sleep(0.9)
    assert await client.wait_closed() == 4401
    await pass_marker(watcher, text="after the close")
    said = [m["ts"] for m in watcher.of_type("chat") if m["user"] == "late"]
    assert said, "nothing was accepted before the expiry either"
    assert max(said) < expires_ms
    await watcher.close()


async def test_an_anonymous_socket_does_not_expire(cluster: Cluster) -> None:
    room = await cluster.room()
    anonymous = await cluster.join(room)
    await asyncio.sleep(0.3)
    await anonymous.send({"type": "ping"})
    await anonymous.wait_for("pong")
    assert not anonymous.closed.is_set()
    await anonymous.close()
