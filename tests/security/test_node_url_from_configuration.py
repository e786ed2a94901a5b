"""A node advertises only the URL its configuration (or its own listening socket) gives:
the anchor's ``Host`` header can neither aim other nodes' pulls nor viewers' redirects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import LIVE, NODE_ID, NODES, ROOMS
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.test_rooms_api import bearer, create_room
from tests.integration.test_whip_whep import SDP, offer_of, watch

pytestmark = pytest.mark.timeout(90)

EVIL = "evil.example:1234"


async def node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    **sections: dict[str, Any],
) -> TestClient:  # fmt: skip
    settings = make_settings(
        valkey.url, tmp_path, key_prefix, **{"server": {"node_heartbeat_s": 0.1}, **sections}
    )
    return await aiohttp_client(create_app(settings))


async def publish_with_host(client: TestClient, token: TokenFactory, room: str, host: str) -> Any:
    pc = await publisher_offer(synthetic_tracks())
    response = await client.post(
        f"/whip/{room}",
        data=offer_of(pc).encode(),
        headers={**SDP, **bearer(token("anchor", "alice")), "Host": host},
    )
    assert response.status == 201, await response.text()
    await accept(pc, await response.text())
    return pc


def url_of(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_a_host_header_names_neither_the_origin_nor_the_redirect_nor_the_registry_entry(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    origin = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    redirecting = await node(
        aiohttp_client, valkey, tmp_path, key_prefix, media={"pull_from_origin": False}
    )
    pulling = await node(aiohttp_client, valkey, tmp_path, key_prefix)
    room = (await create_room(origin, token))["id"]
    publisher = await publish_with_host(origin, token, room, EVIL)

    assert (await origin.app[ROOMS].get(room)).origin == url_of(origin)
    await origin.app[NODES].beat_once()
    entry = await pulling.app[NODES].find(origin.app[NODE_ID])
    assert entry is not None
    assert entry.url == url_of(origin)

    viewer = Viewer()
    moved = await redirecting.post(
        f"/whep/{room}",
        data=(await viewer.offer()).encode(),
        headers={**SDP, "Host": EVIL},
        allow_redirects=False,
    )
    assert moved.status == 307
    assert moved.headers["Location"] == f"{url_of(origin)}/whep/{room}"
    await viewer.close()

    # Another node pulls from the origin's own URL, and its viewer gets the frames.
    pulled, _ = await watch(pulling, room)
    await pulled.wait_frames("video", 3, timeout_s=15)
    pull = pulling.app[LIVE].hub.stats(room)["publication"]  # type: ignore[index]
    assert pull["pulled_from"] == f"{url_of(origin)}/whep/{room}"
    await pulled.close()
    await publisher.close()


async def test_a_configured_public_url_is_advertised_whatever_the_host_header(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    public = "https://node-a.internal.example:8443"
    origin = await node(
        aiohttp_client, valkey, tmp_path, key_prefix, server={"public_url": public + "/"}
    )
    room = (await create_room(origin, token))["id"]
    publisher = await publish_with_host(origin, token, room, EVIL)
    assert (await origin.app[ROOMS].get(room)).origin == public
    assert (await origin.app[NODES].beat_once()).url == public
    await publisher.close()
