"""Every WHIP/WHEP error answer (RFC 9725, CONTRACT.md), CORS, and trickle ICE by PATCH."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import LIVE
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.media_peers import wait_for as wait_until
from tests.integration.test_rooms_api import assert_error, bearer, create_room
from tests.integration.test_whip_whep import SDP, go_live, offer_of, whip

pytestmark = pytest.mark.timeout(90)

OFFER_HEAD = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


def section(kind: str, mid: str, codec: str = "VP8/90000", mux: bool = True) -> str:
    pt = 96 if kind == "video" else 111
    lines = [
        f"m={kind} 9 UDP/TLS/RTP/SAVPF {pt}",
        "c=IN IP4 0.0.0.0",
        f"a=mid:{mid}",
        "a=sendonly",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:abcdefghijklmnopqrstuvwx",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        f"a=rtpmap:{pt} {codec}",
    ]
    if mux:
        lines.append("a=rtcp-mux")
    return "\r\n".join(lines) + "\r\n"


def offer(*sections: str, bundle: str | None = "BUNDLE 0 1") -> str:
    group = f"a=group:{bundle}\r\n" if bundle else ""
    return OFFER_HEAD + group + "".join(sections)


@pytest.fixture
async def room(client: TestClient, token: TokenFactory) -> str:
    return str((await create_room(client, token))["id"])


async def test_whip_needs_the_rooms_anchor_token(
    client: TestClient, token: TokenFactory, room: str
) -> None:
    body = offer(section("video", "0"), section("audio", "1"))
    no_token = await client.post(f"/whip/{room}", data=body, headers=SDP)
    await assert_error(no_token, 401, "unauthorized")
    await assert_error(await whip(client, room, "not-a-jwt", body), 401, "token_invalid")
    await assert_error(await whip(client, room, token("viewer", "v"), body), 403, "forbidden_role")
    await assert_error(await whip(client, room, token("anchor", "bob"), body), 403, "not_your_room")
    scoped = token("anchor", "alice", room="other-room")
    await assert_error(await whip(client, room, scoped, body), 403, "not_your_room")
    await assert_error(
        await whip(client, "no-such-room", token("anchor", "alice"), body), 404, "room_not_found"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("v=0", "application/json", 415, "unsupported_media_type"),
        ("v=0", "text/plain", 415, "unsupported_media_type"),
        ("", "application/sdp", 400, "invalid_sdp"),
        ("hello", "application/sdp", 400, "invalid_sdp"),
        ("v=0\r\nthis is not sdp\r\n", "application/sdp", 400, "invalid_sdp"),
        (OFFER_HEAD, "application/sdp", 400, "invalid_sdp"),
        (
            offer(section("video", "0"), section("video", "1")),
            "application/sdp",
            422,
            "unprocessable_offer",
        ),
        (
            offer(section("audio", "0"), section("audio", "1")),
            "application/sdp",
            422,
            "unprocessable_offer",
        ),
        (
            offer(section("video", "0"), section("audio", "1"), bundle=None),
            "application/sdp",
            422,
            "unprocessable_offer",
        ),
        (
            offer(section("video", "0", mux=False), section("audio", "1")),
            "application/sdp",
            422,
            "unprocessable_offer",
        ),
        (
            offer(section("video", "0", codec="AV1/90000"), section("audio", "1")),
            "application/sdp",
            422,
            "unprocessable_offer",
        ),
    ],
    ids=[
        "json",
        "text",
        "empty",
        "garbage",
        "bad-line",
        "no-media",
        "two-video",
        "two-audio",
        "no-bundle",
        "no-rtcp-mux",
        "no-forwardable-codec",
    ],
)
async def test_whip_refuses_bad_offers(
    client: TestClient,
    token: TokenFactory,
    room: str,
    body: str,
    content_type: str,
    status: int,
    code: str,
) -> None:
    response = await whip(client, room, token("anchor", "alice"), body, content_type)
    await assert_error(response, status, code)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_whep_while_not_live_is_409_with_retry_after(client: TestClient, room: str) -> None:
    viewer = Viewer()
    response = await client.post(f"/whep/{room}", data=(await viewer.offer()).encode(), headers=SDP)
    await assert_error(response, 409, "room_not_live")
    assert response.headers["Retry-After"] == "5"
    await viewer.close()
    missing = await client.post("/whep/nope", data=b"v=0", headers=SDP)
    await assert_error(missing, 404, "room_not_found")


async def test_whep_can_require_a_token(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> None:
    settings = make_settings(valkey.url, tmp_path, key_prefix, auth={"viewer_token_required": True})
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/whep/some-room", data=b"v=0", headers=SDP)
    await assert_error(response, 401, "unauthorized")


async def test_sessions_unknown_here_are_404(
    client: TestClient, token: TokenFactory, room: str
) -> None:
    for path in (f"/whip/{room}/nope", f"/whep/{room}/nope"):
        response = await client.delete(path, headers=bearer(token("anchor", "alice")))
        await assert_error(response, 404, "session_not_found")
    unauthenticated = await client.delete(f"/whip/{room}/nope")
    await assert_error(unauthenticated, 401, "unauthorized")


async def test_options_answers_the_cors_preflight(client: TestClient, room: str) -> None:
    for path in (f"/whip/{room}", f"/whep/{room}", f"/whip/{room}/abc"):
        response = await client.options(
            path,
            headers={
                "Origin": "https://studio.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert response.status == 204
        assert response.headers["Accept-Post"] == "application/sdp"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        for method in ("POST", "DELETE", "PATCH"):
            assert method in response.headers["Access-Control-Allow-Methods"]
        for header in ("Authorization", "Content-Type", "If-Match"):
            assert header in response.headers["Access-Control-Allow-Headers"]
        for header in ("Location", "ETag", "Link"):
            assert header in response.headers["Access-Control-Expose-Headers"]


async def test_other_methods_are_405(client: TestClient, room: str) -> None:
    response = await client.get(f"/whip/{room}")
    await assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def without_candidates(sdp: str) -> tuple[str, list[str]]:
    kept, candidates = [], []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            candidates.append(line)
        elif not line.startswith("a=end-of-candidates"):
            kept.append(line)
    return "\r\n".join(kept) + "\r\n", candidates


async def test_candidates_can_trickle_by_patch_after_an_offer_without_any(
    client: TestClient, token: TokenFactory, room: str
) -> None:
    """What browser WHIP clients do: POST with no candidates, PATCH them with If-Match."""
    pc = await publisher_offer(synthetic_tracks())
    bare, candidates = without_candidates(offer_of(pc))
    assert candidates
    anchor = bearer(token("anchor", "alice"))
    response = await whip(client, room, token("anchor", "alice"), bare)
    assert response.status == 201, await response.text()
    location, etag = response.headers["Location"], response.headers["ETag"]
    await accept(pc, await response.text())
    ufrag = next(line for line in bare.splitlines() if line.startswith("a=ice-ufrag:"))
    pwd = next(line for line in bare.splitlines() if line.startswith("a=ice-pwd:"))
    fragment_type = {"Content-Type": "application/trickle-ice-sdpfrag"}

    wrong_tag = await client.patch(
        location,
        data=f"{ufrag}\r\n{pwd}\r\n",
        headers={**anchor, **fragment_type, "If-Match": '"x"'},
    )
    await assert_error(wrong_tag, 412, "precondition_failed")
    wrong_type = await client.patch(location, data="a=x", headers={**anchor, "If-Match": etag})
    await assert_error(wrong_type, 415, "unsupported_media_type")
    restart = await client.patch(
        location,
        data="a=ice-ufrag:new1\r\na=ice-pwd:newnewnewnewnewnewnewnew\r\n",
        headers={**anchor, **fragment_type, "If-Match": etag},
    )
    await assert_error(restart, 422, "ice_restart_unsupported")

    fragment = "\r\n".join([ufrag, pwd, "m=audio 9 UDP/TLS/RTP/SAVPF 0", "a=mid:0", *candidates])
    fragment += "\r\na=end-of-candidates\r\n"
    patched = await client.patch(
        location, data=fragment, headers={**anchor, **fragment_type, "If-Match": etag}
    )
    assert patched.status == 204, await patched.text()
    entry = client.app[LIVE].hub.session(location.rsplit("/", 1)[1])
    assert entry is not None
    ice = entry[1]._pc.getTransceivers()[0].receiver.transport.transport
    assert len(ice.getRemoteCandidates()) == len(candidates)
    await wait_until(lambda: pc.connectionState == "connected", 15, "connected by trickle")
    await pc.close()


async def test_whep_viewer_without_the_rooms_codec_gets_422(
    client: TestClient, token: TokenFactory, room: str
) -> None:
    pc, _ = await go_live(client, token, room)
    viewer = Viewer()
    sdp = await viewer.offer(("video",))
    h264_only = "\r\n".join(
        line for line in sdp.splitlines() if not re.search(r"VP8|rtpmap:(97|98) |apt=97", line)
    )
    response = await client.post(f"/whep/{room}", data=h264_only.encode() + b"\r\n", headers=SDP)
    await assert_error(response, 422, "unprocessable_offer")
    await viewer.close()
    await pc.close()


async def test_a_full_node_answers_503_with_retry_after(
    aiohttp_client: ClientFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    settings = make_settings(valkey.url, tmp_path, key_prefix, media={"max_sessions": 1})
    client = await aiohttp_client(create_app(settings))
    room = str((await create_room(client, token))["id"])
    pc, _ = await go_live(client, token, room)
    viewer = Viewer()
    response = await client.post(f"/whep/{room}", data=(await viewer.offer()).encode(), headers=SDP)
    await assert_error(response, 503, "media_capacity")
    assert response.headers["Retry-After"] == "10"
    await viewer.close()
    await pc.close()
