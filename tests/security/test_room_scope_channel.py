"""A token with a ``room`` claim acts in that room only, on the channel too, whatever its
role (issue 11, item 2): connecting to another room is refused with an ``error`` frame
``not_your_room`` and close code 4403."""

from __future__ import annotations

import contextlib

import pytest

from tests.integration.channel_client import ChannelClient, pass_marker
from tests.integration.cluster import Cluster, cluster_with
from tests.integration.commerce_helpers import room_with_sale

ROLES = ["viewer", "anchor", "moderator", "admin"]


cluster = cluster_with()


@pytest.mark.parametrize("role", ROLES)
async def test_a_token_for_room_b_is_refused_in_room_a(cluster: Cluster, role: str) -> None:
    room_a, flash = await room_with_sale(cluster)
    room_b = await cluster.room(anchor="bob")
    # bob is room B's anchor: an anchor token scoped to B must not act as him in A either.
    user = "bob" if role == "anchor" else f"{role}-1"
    scoped = cluster.token(role, user, room_b)
    for wire in ("json", "msgpack"):
        client = await ChannelClient.connect(cluster.http, cluster.urls[0], room_a, scoped, wire)
        # It tries at once what such a token once could do in room A.
        with contextlib.suppress(ConnectionError):
            await client.send({"type": "chat", "text": "hello A"})
            await client.send({"type": "like", "count": 5})
            await client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": wire})
        error = await client.wait_for("error")
        assert error["code"] == "not_your_room"
        assert await client.wait_closed() == 4403
        assert client.of_type("welcome") == []
    # No chat, like or buy of that token reached room A. A like and a chat line sent
    # after them on the same node arrive alone: likes are flushed in the order they came.
    watcher = await cluster.join(room_a, "watcher")
    assert watcher.of_type("welcome")[0]["messages"] == []
    assert watcher.of_type("welcome")[0]["likes"] == 0
    assert watcher.of_type("welcome")[0]["sales"][0]["left"] == flash["quantity"]
    await watcher.send({"type": "like", "count": 1})
    await watcher.wait_for("likes")
    await pass_marker(watcher, text="marker")
    assert [f["total"] for f in watcher.of_type("likes")] == [1]
    assert [f["text"] for f in watcher.of_type("chat")] == ["marker"]
    await watcher.close()


@pytest.mark.parametrize("role", ROLES)
async def test_a_token_for_room_b_works_in_room_b(cluster: Cluster, role: str) -> None:
    room_b = await cluster.room(anchor="bob")
    user = "bob" if role == "anchor" else f"{role}-1"
    client = await ChannelClient.connect(
        cluster.http, cluster.urls[1], room_b, cluster.token(role, user, room_b), "json"
    )
    welcome = await client.wait_for("welcome")
    assert welcome["you"]["role"] == role
    await client.send({"type": "chat", "text": f"hello from a {role}"})
    assert (await client.wait_for("chat"))["user"] == user
    await client.close()


async def test_a_token_without_a_room_keeps_its_reach(cluster: Cluster) -> None:
    room_a = await cluster.room()
    client = await cluster.join(room_a, "mia", role="moderator")
    await client.send({"type": "chat", "text": "I moderate every room"})
    assert (await client.wait_for("chat"))["role"] == "moderator"
    await client.close()


async def test_a_scoped_token_is_refused_even_for_a_room_that_does_not_exist(
    cluster: Cluster,
) -> None:
    room_b = await cluster.room(anchor="bob")
    scoped = cluster.token("viewer", "v", room_b)
    client = await ChannelClient.connect(cluster.http, cluster.urls[0], "nosuchroom", scoped)
    assert (await client.wait_for("error"))["code"] == "not_your_room"
    assert await client.wait_closed() == 4403
