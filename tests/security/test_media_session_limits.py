"""Offers that never connect cannot lock a node out; one address cannot hold every session;
one offer cannot make the node probe hundreds of attacker-chosen ports."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.nodes.signing import HEADER, node_key, sign
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.node_calls import node_signer
from livecommerce.web.state import LIVE, NODE_ID
from tests.conftest import TEST_SECRET, ClientFactory, TokenFactory, make_settings
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.media_peers import wait_for as wait_until
from tests.integration.test_rooms_api import assert_error, bearer, create_room
from tests.integration.test_whip_whep import go_live, offer_of, watch, whip
from tests.integration.test_whip_whep_errors import without_candidates
from tests.security.media_helpers import FRAGMENT, post_offer, silent_offer, with_candidates

pytestmark = pytest.mark.timeout(120)


async def node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    **sections: dict[str, Any],
) -> TestClient:  # fmt: skip
    settings = make_settings(valkey.url, tmp_path, key_prefix, **sections)
    return await aiohttp_client(create_app(settings))


async def test_offers_that_never_connect_end_after_the_connect_timeout_and_free_the_node(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(
        aiohttp_client, valkey, tmp_path, key_prefix,
        media={"max_sessions": 5, "connect_timeout_s": 2.0},
    )  # fmt: skip
    hub = client.app[LIVE].hub
    room = (await create_room(client, token))["id"]
    publisher, _ = await go_live(client, token, room)
    await wait_until(lambda: publisher.connectionState == "connected", 10, "the publisher")

    for _ in range(4):  # anonymous, never connecting: the node is full
        assert (await post_offer(client, f"/whep/{room}", await silent_offer())).status == 201
    full = await post_offer(client, f"/whep/{room}", await silent_offer())
    await assert_error(full, 503, "media_capacity")

    # They end once the timeout passes, and stop counting at once.
    await wait_until(lambda: hub.count_sessions() == 1, 10, "the silent sessions to end")
    assert hub.stats(room)["viewers"] == 0  # type: ignore[index]

    # A real viewer, and the anchor (a new session replacing its own), get in again.
    viewer, _ = await watch(client, room)
    await viewer.wait_frames("video", 3, timeout_s=15)
    again = await publisher_offer(synthetic_tracks())
    replaced = await whip(client, room, token("anchor", "alice"), offer_of(again))
    assert replaced.status == 201, await replaced.text()
    await accept(again, await replaced.text())
    await wait_until(lambda: again.connectionState == "connected", 10, "the new publication")
    # Connected sessions are not ended by the deadline.
    await asyncio.sleep(2.5)
    assert hub.count_sessions() == 2
    for pc in (publisher, again):
        await pc.close()
    await viewer.close()


async def test_one_address_holds_at_most_max_sessions_per_address(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(
        aiohttp_client, valkey, tmp_path, key_prefix,
        media={"max_sessions_per_address": 3},
        server={"trusted_proxies": ["127.0.0.1/32"]},
    )  # fmt: skip
    room = (await create_room(client, token))["id"]
    publisher, _ = await go_live(client, token, room)  # the anchor's session counts too
    locations = []
    for _ in range(2):
        response = await post_offer(client, f"/whep/{room}", await silent_offer())
        assert response.status == 201
        locations.append(response.headers["Location"])
    refused = await post_offer(client, f"/whep/{room}", await silent_offer())
    body = await assert_error(refused, 429, "too_many_connections")
    assert "3 media sessions" in body["error"]["message"]
    # The anchor's WHIP counts against the same address.
    second = await publisher_offer(synthetic_tracks())
    await assert_error(
        await whip(client, room, token("anchor", "alice"), offer_of(second)),
        429,
        "too_many_connections",
    )

    # Another client behind the trusted proxy has its own count.
    proxied = {"X-Forwarded-For": "203.0.113.7"}
    assert (await post_offer(client, f"/whep/{room}", await silent_offer(), proxied)).status == 201
    # Claiming to be another node does not escape the count without the node signature.
    forged = {HEADER: f"v1 {client.app[NODE_ID]} 0 - {'0' * 64}"}
    await assert_error(
        await post_offer(client, f"/whep/{room}", await silent_offer(), forged),
        429,
        "too_many_connections",
    )
    # A session that ends gives its place back.
    assert (await client.delete(locations[0])).status == 200
    assert (await post_offer(client, f"/whep/{room}", await silent_offer())).status == 201
    for pc in (publisher, second):
        await pc.close()


async def test_a_node_pulling_a_room_is_not_counted_against_its_address(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    """Every node of a deployment may reach the origin from one address; only a signed
    request (the shared secret) passes for a node."""
    limit = {"media": {"max_sessions_per_address": 1}}
    origin = await node(aiohttp_client, valkey, tmp_path, key_prefix, **limit)
    edge = await node(aiohttp_client, valkey, tmp_path, key_prefix, **limit)
    room = (await create_room(origin, token))["id"]
    publisher, _ = await go_live(origin, token, room)  # 127.0.0.1 is at its limit on the origin
    await assert_error(
        await post_offer(origin, f"/whep/{room}", await silent_offer()), 429, "too_many_connections"
    )

    viewer, _ = await watch(edge, room)  # the edge pulls from the origin, as 127.0.0.1
    await viewer.wait_frames("video", 3, timeout_s=15)
    assert origin.app[LIVE].hub.stats(room)["viewers"] == 1  # type: ignore[index]

    # The same signature, made with another secret, proves nothing.
    sign = node_signer("not-the-deployment-secret-0123456789ab", "0badc0ffee00")
    offer = await silent_offer()
    url = str(origin.make_url(f"/whep/{room}"))
    stranger = sign("POST", url, offer.encode())
    await assert_error(
        await post_offer(origin, f"/whep/{room}", offer, dict(stranger)),
        429,
        "too_many_connections",
    )
    member = node_signer(TEST_SECRET, "0badc0ffee00")("POST", url, offer.encode())
    assert (await post_offer(origin, f"/whep/{room}", offer, dict(member))).status == 201
    await viewer.close()
    await publisher.close()


async def test_an_offer_with_more_candidates_than_allowed_is_refused(
    client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(client, token))["id"]
    publisher, _ = await go_live(client, token, room)
    offer = await silent_offer()

    flood = await post_offer(client, f"/whep/{room}", with_candidates(offer, 200))
    body = await assert_error(flood, 400, "invalid_sdp")
    assert body["error"]["message"] == (
        "The offer has 200 ICE candidates; at most 20 are accepted."
    )
    assert client.app[LIVE].hub.count_sessions() == 1
    pc = await publisher_offer(synthetic_tracks())
    await assert_error(
        await whip(client, room, token("anchor", "alice"), with_candidates(offer_of(pc), 200)),
        400,
        "invalid_sdp",
    )
    await pc.close()
    await publisher.close()


async def test_trickled_candidates_share_the_sessions_budget(
    client: TestClient, token: TokenFactory
) -> None:
    room = (await create_room(client, token))["id"]
    publisher, _ = await go_live(client, token, room)
    viewer = Viewer()
    bare, _ = without_candidates(await viewer.offer())
    response = await post_offer(client, f"/whep/{room}", with_candidates(bare, 15))
    assert response.status == 201
    location = response.headers["Location"]

    def fragment(count: int, first_port: int) -> str:
        return with_candidates("a=mid:0\r\n", count, first_port)

    patch_headers = {**FRAGMENT, "If-Match": response.headers["ETag"]}
    ok = await client.patch(location, data=fragment(5, 2000), headers=patch_headers)
    assert ok.status == 204, await ok.text()
    # Candidates it already has count once, however often they are sent.
    repeated = await client.patch(location, data=fragment(5, 2000), headers=patch_headers)
    assert repeated.status == 204, await repeated.text()
    over = await client.patch(location, data=fragment(1, 3000), headers=patch_headers)
    body = await assert_error(over, 400, "invalid_sdp_fragment")
    assert "at most 20" in body["error"]["message"]
    entry = client.app[LIVE].hub.session(location.rsplit("/", 1)[1])
    assert entry is not None
    ice = entry[1]._pc.getTransceivers()[0].sender.transport.transport
    assert len(ice.getRemoteCandidates()) == 20
    await viewer.close()
    await publisher.close()


async def test_the_candidate_limit_is_a_setting(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(
        aiohttp_client, valkey, tmp_path, key_prefix,
        media={"max_candidates_per_session": 2},
    )  # fmt: skip
    room = (await create_room(client, token))["id"]
    publisher = await publisher_offer(synthetic_tracks())
    bare, _ = without_candidates(offer_of(publisher))  # a browser-like WHIP offer
    assert (await whip(client, room, token("anchor", "alice"), bare)).status == 201
    three = with_candidates(await silent_offer(), 3)
    await assert_error(await post_offer(client, f"/whep/{room}", three), 400, "invalid_sdp")
    two = with_candidates(await silent_offer(), 2)
    assert (await post_offer(client, f"/whep/{room}", two)).status == 201
    await publisher.close()


async def test_a_request_passed_on_by_a_node_counts_the_client_it_names(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    client = await node(
        aiohttp_client, valkey, tmp_path, key_prefix, media={"max_sessions_per_address": 1}
    )
    room = (await create_room(client, token))["id"]
    publisher, _ = await go_live(client, token, room)  # 127.0.0.1, the "forwarding node", is full
    key = node_key(TEST_SECRET)

    async def passed_on(for_client: str) -> Any:
        offer = await silent_offer()
        header = sign(key, "0a1b2c3d4e5f", "POST", f"/whep/{room}", offer.encode(), for_client)
        return await post_offer(client, f"/whep/{room}", offer, {HEADER: header})

    assert (await passed_on("198.51.100.5")).status == 201
    await assert_error(await passed_on("198.51.100.5"), 429, "too_many_connections")
    assert (await passed_on("198.51.100.6")).status == 201
    await publisher.close()


async def test_a_node_may_pull_a_room_that_needs_a_viewer_token(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str,
    token: TokenFactory,
) -> None:  # fmt: skip
    tokens = {"auth": {"viewer_token_required": True}}
    origin = await node(aiohttp_client, valkey, tmp_path, key_prefix, **tokens)
    edge = await node(aiohttp_client, valkey, tmp_path, key_prefix, **tokens)
    room = (await create_room(origin, token))["id"]
    publisher, _ = await go_live(origin, token, room)
    await assert_error(
        await post_offer(origin, f"/whep/{room}", await silent_offer()), 401, "unauthorized"
    )
    # A request a node passes on for a client is that client's: it still needs its token.
    offer = await silent_offer()
    header = sign(
        node_key(TEST_SECRET), "0a1b2c3d4e5f", "POST", f"/whep/{room}", offer.encode(), "192.0.2.9"
    )
    await assert_error(
        await post_offer(origin, f"/whep/{room}", offer, {HEADER: header}), 401, "unauthorized"
    )
    viewer = Viewer()
    response = await post_offer(
        edge, f"/whep/{room}", await viewer.offer(), bearer(token("viewer", "v"))
    )
    assert response.status == 201, await response.text()  # pulled, not redirected
    await accept(viewer.pc, await response.text())
    await viewer.wait_frames("video", 3, timeout_s=15)
    await viewer.close()
    await publisher.close()
