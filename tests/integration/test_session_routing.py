"""WHIP/WHEP session URLs work whichever node a PATCH or DELETE lands on: two real node
processes on one store, a real aiortc publisher and viewer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.integration.deployment import api, bearer, eventually, start_node, token, write_config
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.nodes import Node
from tests.integration.test_whip_whep import offer_of
from tests.integration.test_whip_whep_errors import without_candidates

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SDP = {"Content-Type": "application/sdp"}
FRAGMENT = {"Content-Type": "application/trickle-ice-sdpfrag"}


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def two_nodes(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str, mode: str
) -> tuple[Node, Node]:
    config = write_config(
        tmp_path / "node.toml", valkey.url, key_prefix, media={"session_requests": mode}
    )
    return (
        start_node(nodes, tmp_path / "a", config),
        start_node(nodes, tmp_path / "b", config),
    )


async def new_room(http: aiohttp.ClientSession, node: Node) -> str:
    status, room = await api(
        http, node, "POST", "/api/rooms", token("anchor", "alice"), {"title": "t"}
    )
    assert status == 201, room
    return str(room["id"])


async def test_patch_and_delete_of_sessions_on_another_node_are_forwarded_to_it(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str
) -> None:
    a, b = two_nodes(nodes, tmp_path, valkey, key_prefix, "forward")
    anchor = bearer("anchor", "alice")
    async with aiohttp.ClientSession() as http:
        room = await new_room(http, a)
        # A browser-like publisher: the offer has no candidates, they come by PATCH.
        pc = await publisher_offer(synthetic_tracks())
        bare, candidates = without_candidates(offer_of(pc))
        async with http.post(f"{a.url}/whip/{room}", data=bare, headers={**SDP, **anchor}) as r:
            assert r.status == 201, await r.text()
            location, etag = r.headers["Location"], r.headers["ETag"]
            await accept(pc, await r.text())
        ice = [line for line in bare.splitlines() if line.startswith(("a=ice-ufrag", "a=ice-pwd"))]
        fragment = "\r\n".join([*ice, "m=audio 9 UDP/TLS/RTP/SAVPF 0", "a=mid:0", *candidates])
        async with http.patch(
            b.url + location,
            data=fragment + "\r\na=end-of-candidates\r\n",
            headers={**anchor, **FRAGMENT, "If-Match": etag},
        ) as patched:
            assert patched.status == 204, await patched.text()

        async def connected() -> bool:
            return pc.connectionState == "connected"

        await eventually(connected, "the publisher to connect with candidates sent through B")

        viewer = Viewer()
        async with http.post(f"{a.url}/whep/{room}", data=await viewer.offer(), headers=SDP) as r:
            assert r.status == 201
            viewer_location = r.headers["Location"]
            await accept(viewer.pc, await r.text())
        await viewer.wait_frames("video", 3, timeout_s=15)

        # Errors come from the node that holds the session, as they are.
        unknown = location.rsplit("/", 1)[0] + "/" + etag.strip('"').split(".")[0] + ".nope"
        async with http.patch(b.url + unknown, data="a=x", headers={**anchor, **FRAGMENT}) as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == "session_not_found"
        async with http.delete(b.url + location, headers=bearer("anchor", "mallory")) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "not_your_room"
        async with http.delete(b.url + location) as r:
            assert r.status == 401  # B checks the token before passing anything on

        async with http.delete(b.url + viewer_location) as r:
            assert r.status == 200

        async def viewer_gone() -> bool:
            return viewer.pc.connectionState == "closed"

        await eventually(viewer_gone, "the viewer's session on A to end")

        async with http.delete(b.url + location, headers=anchor) as r:
            assert r.status == 200

        async def offline() -> bool:
            return (await api(http, b, "GET", f"/api/rooms/{room}"))[1]["status"] == "scheduled"

        await eventually(offline, "the room to go offline")
        async with http.delete(b.url + location, headers=anchor) as r:
            assert r.status == 200  # ended already: still 200, answered by A
        await viewer.close()
        await pc.close()


async def test_redirect_mode_answers_307_to_the_session_on_its_node(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str
) -> None:
    a, b = two_nodes(nodes, tmp_path, valkey, key_prefix, "redirect")
    anchor = bearer("anchor", "alice")
    async with aiohttp.ClientSession() as http:
        room = await new_room(http, a)
        pc = await publisher_offer(synthetic_tracks())
        async with http.post(
            f"{a.url}/whip/{room}", data=offer_of(pc), headers={**SDP, **anchor}
        ) as r:
            assert r.status == 201
            location = r.headers["Location"]
            await accept(pc, await r.text())
        async with http.delete(b.url + location, headers=anchor, allow_redirects=False) as r:
            assert r.status == 307
            assert r.headers["Location"] == a.url + location
        async with http.delete(a.url + location, headers=anchor) as r:
            assert r.status == 200
        await pc.close()


async def test_sessions_of_a_node_that_is_gone_are_gone_too(
    nodes: list[Node], tmp_path: Path, valkey: EmbeddedValkey, key_prefix: str
) -> None:
    _, b = two_nodes(nodes, tmp_path, valkey, key_prefix, "forward")
    async with aiohttp.ClientSession() as http:
        room = await new_room(http, b)
        location = f"/whep/{room}/0deadnode000.lInjw6QJZ0BURYX27ydRbA"
        async with http.delete(b.url + location) as r:
            assert r.status == 200
        async with http.patch(b.url + location, data="a=x", headers=FRAGMENT) as r:
            assert r.status == 404
            assert "gone" in (await r.json())["error"]["message"]
