"""The anchor client against a real server: files and the test source, errors, reconnects."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from clients.anchor.cli import Options, parse_args, run
from clients.anchor.filesource import probe
from livecommerce.web.state import LIVE
from media.samples import sample_path
from tests.conftest import TokenFactory
from tests.integration.media_peers import Viewer, accept
from tests.integration.media_peers import wait_for as wait_until
from tests.integration.test_rooms_api import create_room
from tests.integration.test_whip_whep import SDP, room_status, wait_for_status

pytestmark = pytest.mark.timeout(90)


def options(client: TestClient, token: str, room: str, source: str, once: bool = False) -> Options:
    server = str(client.make_url("")).rstrip("/")
    return Options(server, token, room, source, (320, 180), once, status_every_s=0.3)


async def start(opts: Options) -> tuple[asyncio.Event, asyncio.Task[int]]:
    stop = asyncio.Event()
    return stop, asyncio.ensure_future(run(opts, stop))


async def watch(client: TestClient, room: str) -> Viewer:
    viewer = Viewer()
    response = await client.post(f"/whep/{room}", data=(await viewer.offer()).encode(), headers=SDP)
    assert response.status == 201, await response.text()
    await accept(viewer.pc, await response.text())
    return viewer


def test_the_samples_are_small_webrtc_clips() -> None:
    assert probe(sample_path("vp8")) == {"video": "video/VP8", "audio": "audio/opus"}
    assert probe(sample_path("h264")) == {"video": "video/H264", "audio": "audio/opus"}
    for codec in ("vp8", "h264"):
        assert sample_path(codec).stat().st_size < 250_000


@pytest.mark.parametrize("codec", ["vp8", "h264"])
async def test_a_file_is_published_without_reencoding_and_late_joiners_start_at_once(
    client: TestClient, token: TokenFactory, codec: str
) -> None:
    """The file's keyframes come every 2 s and it ignores PLI (like OBS)."""
    room = (await create_room(client, token))["id"]
    stop, task = await start(
        options(client, token("anchor", "alice"), room, str(sample_path(codec)))
    )
    await wait_for_status(client, room, "live")
    hub = client.app[LIVE].hub
    await wait_until(
        lambda: (
            (hub.stats(room) or {})
            .get("publication", {})
            .get("tracks", {})
            .get("video", {})
            .get("frames_in", 0)
            > 40
        ),
        15,
        "frames from the file",
    )

    viewer = await watch(client, room)
    await viewer.wait_frames("video", 5, timeout_s=10)
    await viewer.wait_frames("audio", 5, timeout_s=10)

    # At once: the viewer started from the cached group of pictures, so no frame was dropped
    # waiting for the file's next keyframe. How fast: scripts/bench_media.py.
    stats = hub.stats(room)
    assert stats is not None
    assert stats["subscriptions"][0]["tracks"]["video"]["frames_dropped"] == 0
    assert viewer.sizes == {(640, 360)}
    stop.set()
    assert await task == 0
    assert await room_status(client, room) == "scheduled"  # the client sent DELETE
    await viewer.close()


async def test_the_test_source_goes_live_and_reconnects_when_the_server_drops_it(
    client: TestClient, token: TokenFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    room = (await create_room(client, token))["id"]
    stop, task = await start(options(client, token("anchor", "alice"), room, "testsrc"))
    await wait_for_status(client, room, "live")
    hub = client.app[LIVE].hub
    first = hub.publications()[room]  # stats show labels, never ids

    await hub.end_session(first, "the test drops it")
    await wait_until(lambda: hub.publications().get(room) not in (None, first), 20, "a new session")
    assert await room_status(client, room) == "live"
    await asyncio.sleep(0.5)
    stop.set()
    assert await task == 0
    assert "viewers 0, video frames received by the server" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("who", "room_exists", "message"),
    [
        ("bad-token", True, "refused the token"),
        ("other-anchor", True, "may not publish"),
        ("alice", False, "does not exist"),
    ],
)
async def test_clear_errors_for_a_bad_token_or_an_unknown_room(
    client: TestClient,
    token: TokenFactory,
    capsys: pytest.CaptureFixture[str],
    who: str,
    room_exists: bool,
    message: str,
) -> None:
    room = (await create_room(client, token))["id"] if room_exists else "no-such-room"
    credential = {
        "bad-token": "not-a-token",
        "other-anchor": token("anchor", "bob"),
        "alice": token("anchor", "alice"),
    }[who]
    status = await run(options(client, credential, room, "testsrc"))

    assert status == 2  # fatal: no retry loop
    assert message in capsys.readouterr().err


async def test_an_unreachable_server_is_retried_or_reported(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = await run(Options("http://127.0.0.1:9", "t", "room", "testsrc", (320, 180), True))

    assert status == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_the_command_line_is_checked() -> None:
    opts = parse_args(["--server", "http://h:1", "--token", "t", "--room", "r", "--size", "64x48"])
    assert opts.size == (64, 48)
    assert opts.source == "testsrc"
    with pytest.raises(SystemExit):
        parse_args(["--server", "http://h:1", "--token", "t", "--room", "r", "--size", "big"])
