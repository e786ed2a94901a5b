"""One address cannot pile up channel sockets (issue 11, item 6):
``channel.max_sockets_per_address`` caps the sockets one client address holds open on a
node; the next is refused with 429 ``too_many_connections`` before the upgrade."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.channel_sockets import CHANNEL_SOCKETS
from livecommerce.web.state import HUB, ROOMS
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.media_peers import wait_for

LIMIT = 5


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, max_sockets_per_address=LIMIT
    ):
        yield value


async def refused(cluster: Cluster, room: str, node: int = 0) -> dict[str, Any]:
    """The HTTP answer to one more upgrade, which must be refused."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await cluster.http.ws_connect(f"{cluster.urls[node]}/ws/rooms/{room}?format=json")
    assert caught.value.status == 429
    async with cluster.http.get(
        f"{cluster.urls[node]}/ws/rooms/{room}?format=json",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    ) as response:
        assert response.status == 429
        body: dict[str, Any] = await response.json()
    return body


async def test_the_socket_over_the_cap_is_refused_before_the_upgrade(cluster: Cluster) -> None:
    room = await cluster.room()
    held = [await cluster.join(room, f"u{n}" if n % 2 else None) for n in range(LIMIT)]
    body = await refused(cluster, room)
    assert body["error"]["code"] == "too_many_connections"
    # The sockets already open are untouched, and the cap is per node.
    for client in held:
        await client.send({"type": "ping"})
        await client.wait_for("pong")
    elsewhere = await cluster.join(room, node=1)
    # Closing one frees a place.
    await held.pop().close()
    sockets = cluster.apps[0][CHANNEL_SOCKETS]
    await wait_for(lambda: sockets.held("127.0.0.1") == LIMIT - 1, 5, "the closed socket's place")
    held.append(await cluster.join(room))
    for client in [*held, elsewhere]:
        await client.close()


async def test_a_burst_of_anonymous_sockets_is_capped_and_not_counted_as_viewers(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    await cluster.apps[0][ROOMS].go_live(room, "s-1", "http://origin.invalid", 600_000)

    async def attempt() -> ChannelClient | int:
        try:
            client = await ChannelClient.connect(cluster.http, cluster.urls[0], room, wire="json")
        except aiohttp.WSServerHandshakeError as error:
            return error.status
        await client.wait_for("welcome")
        return client

    outcomes = await asyncio.gather(*(attempt() for _ in range(200)))
    opened = [client for client in outcomes if isinstance(client, ChannelClient)]
    assert [status for status in outcomes if isinstance(status, int)] == [429] * (200 - LIMIT)
    assert len(opened) == LIMIT
    assert cluster.apps[0][HUB].local_viewers(room) == LIMIT
    await opened[0].wait_for(lambda f: f.get("type") == "viewers" and f["count"] == LIMIT)
    status, listing = await cluster.api("GET", "/api/rooms?status=live")
    assert status == 200
    assert [r["discovery"]["viewers"] for r in listing["rooms"] if r["id"] == room] == [LIMIT]
    for client in opened:
        await client.close()


async def test_zero_means_unlimited(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, max_sockets_per_address=0
    ):
        room = await cluster.room()
        many = [await cluster.join(room) for _ in range(3 * LIMIT)]
        for client in many:
            await client.close()


async def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_cap(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    sections = {"server": {"trusted_proxies": ["127.0.0.1/32"]}}
    async for cluster in start_cluster(
        aiohttp_server,
        valkey,
        tmp_path,
        key_prefix,
        token,
        sections=sections,
        max_sockets_per_address=LIMIT,
    ):
        room = await cluster.room()
        url = f"{cluster.urls[0]}/ws/rooms/{room}?format=json"

        async def connect(
            address: str, http: aiohttp.ClientSession = cluster.http, url: str = url
        ) -> aiohttp.ClientWebSocketResponse:
            return await http.ws_connect(url, headers={"X-Forwarded-For": address})

        first = [await connect("203.0.113.1") for _ in range(LIMIT)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await connect("203.0.113.1")
        assert caught.value.status == 429
        second = [await connect("203.0.113.2") for _ in range(LIMIT)]
        for ws in [*first, *second]:
            await ws.close()
