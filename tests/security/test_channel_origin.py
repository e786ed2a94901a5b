"""The channel's ``Origin`` check (issue 17, item 2): CORS does not cover WebSockets, so
a page of another site could open a room's channel in its visitors' browsers. Such an
upgrade is refused with 403 ``origin_not_allowed`` before any socket exists; this
node's own pages, the sites of ``server.cors_origins`` and clients that send no
``Origin`` (not browsers) get in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.security.test_cors import ATTACKERS, SHOP


@pytest.fixture
def node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> Any:
    async def start(**server: Any) -> TestClient:
        settings = make_settings(valkey.url, tmp_path, key_prefix, server=server)
        return await aiohttp_client(create_app(settings))

    return start


async def make_room(client: TestClient, token: TokenFactory) -> str:
    headers = {"Authorization": f"Bearer {token('anchor', 'alice')}"}
    response = await client.post("/api/rooms", json={"title": "Origin"}, headers=headers)
    assert response.status == 201
    return str((await response.json())["id"])


async def welcome(
    client: TestClient, room: str, origin: str | None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    url = f"/ws/rooms/{room}?format=json"
    async with client.ws_connect(url, origin=origin, headers=headers) as ws:
        frame = await ws.receive_json(timeout=10)
        assert frame["type"] == "welcome"
        return dict(frame)


async def refused(
    client: TestClient, room: str, origin: str, extra: dict[str, str] | None = None
) -> None:
    url = f"/ws/rooms/{room}?format=json"
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        async with client.ws_connect(url, origin=origin, headers=extra):
            pass
    assert caught.value.status == 403, origin
    # The same upgrade read as plain HTTP: the catalogue's JSON error.
    headers = {
        "Origin": origin,
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        **(extra or {}),
    }
    response = await client.get(f"/ws/rooms/{room}?format=json", headers=headers)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "origin_not_allowed"


async def test_other_sites_are_refused_by_default(node: Any, token: TokenFactory) -> None:
    client: TestClient = await node()
    room = await make_room(client, token)
    for origin in [SHOP, *ATTACKERS]:
        await refused(client, room, origin)


async def test_own_pages_and_clients_without_origin_get_in(node: Any, token: TokenFactory) -> None:
    client: TestClient = await node()
    room = await make_room(client, token)
    await welcome(client, room, f"http://{client.host}:{client.port}")
    await welcome(client, room, None)


async def test_a_listed_site_gets_in_and_look_alikes_do_not(node: Any, token: TokenFactory) -> None:
    client: TestClient = await node(cors_origins=[SHOP])
    room = await make_room(client, token)
    await welcome(client, room, SHOP)
    for origin in ATTACKERS:
        await refused(client, room, origin)


async def test_the_public_url_counts_as_this_node(node: Any, token: TokenFactory) -> None:
    # Behind a proxy the Host header may be the node's own address; pages come from the
    # public URL.
    client: TestClient = await node(public_url="https://live.example")
    room = await make_room(client, token)
    await welcome(client, room, "https://live.example")
    await refused(client, room, "https://live.example.evil.example")


async def test_a_star_lets_every_site_in(node: Any, token: TokenFactory) -> None:
    client: TestClient = await node(cors_origins=["*"])
    room = await make_room(client, token)
    await welcome(client, room, "https://anyone.example")


async def test_a_trusted_proxy_says_which_host_the_page_asked_for(
    node: Any, token: TokenFactory
) -> None:
    # A balancer that rewrites Host (nginx's default) passes the client's in
    # X-Forwarded-Host; only the right-most value is the proxy's own.
    client: TestClient = await node(trusted_proxies=["127.0.0.1/32"])
    room = await make_room(client, token)
    await welcome(client, room, "https://live.example", {"X-Forwarded-Host": "live.example"})
    await welcome(
        client, room, "https://live.example", {"X-Forwarded-Host": "evil.example, live.example"}
    )
    forged = {"X-Forwarded-Host": "evil.example, live.example"}
    await refused(client, room, "https://evil.example", forged)
    await refused(client, room, "https://evil.example", {"X-Forwarded-Host": "live.example"})


async def test_a_forwarded_host_from_an_untrusted_peer_counts_for_nothing(
    node: Any, token: TokenFactory
) -> None:
    client: TestClient = await node(trusted_proxies=["10.0.0.0/8"])
    room = await make_room(client, token)
    await refused(client, room, "https://evil.example", {"X-Forwarded-Host": "evil.example"})
