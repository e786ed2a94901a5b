"""The media hub with real aiortc peers over loopback (no HTTP)."""

from __future__ import annotations

import asyncio
import datetime
import threading
import time

import pytest
from aiortc import RTCCertificate, RTCPeerConnection
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from media.aiortc_patches import DECODER_QUEUE, DECODER_THREAD, RUN_RTP, FrameTap
from media.hub import MediaHub, NotPublishingError, PublisherExistsError
from media.sender import run_frame_sender
from media.settings import RelaySettings
from tests.integration.media_peers import (
    Viewer,
    accept,
    new_pc,
    publisher_offer,
    synthetic_tracks,
    wait_for,
)

pytestmark = pytest.mark.timeout(60)


def sdp_of(pc: RTCPeerConnection) -> str:
    assert pc.localDescription is not None
    return pc.localDescription.sdp


def ignore_keyframe_requests(pc: RTCPeerConnection) -> None:
    """Behave like OBS: PLI/FIR from the server change nothing."""
    for sender in pc.getSenders():
        sender._send_keyframe = lambda: None  # type: ignore[method-assign]


async def publish(
    hub: MediaHub, key: str = "room", codec: str = "video/VP8", width: int = 320, height: int = 240
) -> tuple[RTCPeerConnection, str]:
    pc = await publisher_offer(synthetic_tracks(width, height), codec)
    session_id, answer = await hub.publish(key, "alice", sdp_of(pc))
    await accept(pc, answer)
    return pc, session_id


async def play(hub: MediaHub, key: str = "room") -> Viewer:
    viewer = Viewer()
    _, answer = await hub.play(key, await viewer.offer())
    await accept(viewer.pc, answer)
    return viewer


async def test_encoded_frames_are_tapped_and_the_decoder_thread_idles() -> None:
    """Pins aiortc's private decoder queue: if this fails, media/aiortc_patches.py needs work."""
    hub = MediaHub(RelaySettings())
    pc, session_id = await publish(hub)
    entry = hub.session(session_id)
    assert entry is not None
    publication = entry[1]
    await wait_for(lambda: publication.stats()["tracks"]["video"]["frames_in"] > 10)

    receivers = [t.receiver for t in publication._pc.getTransceivers()]
    threads: list[threading.Thread] = []
    for receiver in receivers:
        assert isinstance(getattr(receiver, DECODER_QUEUE), FrameTap)
        thread = getattr(receiver, DECODER_THREAD)
        assert thread is not None
        assert thread.is_alive()
        threads.append(thread)
        assert receiver.track._queue.qsize() == 0  # nothing was decoded
    assert publication.stats()["tracks"]["audio"]["frames_in"] > 10

    started = time.monotonic()
    await hub.close()
    await pc.close()
    assert time.monotonic() - started < 5
    assert not any(thread.is_alive() for thread in threads)  # the stop sentinel got through


@pytest.mark.parametrize("codec", ["video/VP8", "video/H264"])
async def test_a_viewer_decodes_video_at_the_published_size_and_stereo_audio(codec: str) -> None:
    hub = MediaHub(RelaySettings())
    pc, _ = await publish(hub, codec=codec, width=320, height=180)
    viewer = await play(hub)
    await viewer.wait_frames("video", 20)
    await viewer.wait_frames("audio", 20)

    assert viewer.sizes == {(320, 180)}
    assert viewer.layouts == {"stereo"}
    stats = hub.stats("room")
    assert stats is not None
    assert stats["publication"]["tracks"]["video"]["codec"].lower() == codec.lower()
    assert stats["subscriptions"][0]["tracks"]["video"]["frames_out"] >= 20
    await viewer.close()
    await pc.close()
    await hub.close()


async def test_a_late_joiner_decodes_at_once_when_the_publisher_ignores_keyframe_requests() -> None:
    """The GOP cache: the publisher's only keyframe is seconds old and PLI does nothing."""
    hub = MediaHub(RelaySettings())
    pc, _ = await publish(hub)
    ignore_keyframe_requests(pc)
    stats = hub.stats("room")
    assert stats is not None
    await wait_for(lambda: hub.stats("room")["publication"]["tracks"]["video"]["frames_in"] > 45)  # type: ignore[index]

    viewer = await play(hub)
    await viewer.wait_frames("video", 1, timeout_s=5)

    # How fast: scripts/bench_media.py (time to first frame, against no GOP cache).
    stats = hub.stats("room")
    assert stats is not None
    assert stats["publication"]["tracks"]["video"]["keyframes_in"] == 1  # no new keyframe
    assert stats["subscriptions"][0]["tracks"]["video"]["frames_dropped"] == 0  # none awaited
    await viewer.close()
    await pc.close()
    await hub.close()


async def test_a_viewer_that_stops_reading_does_not_stall_the_others() -> None:
    hub = MediaHub(RelaySettings(video_queue_frames=5))
    pc, _ = await publish(hub)
    viewer = await play(hub)
    relay = hub._broadcasts["room"].relays["video"]
    stalled = relay.subscribe()
    stalled.start()  # a viewer whose sender started, then never read again
    await viewer.wait_frames("video", 60)

    assert stalled.queued <= 5
    assert stalled.stats.frames_dropped > 30
    assert viewer.frames["video"] >= 60
    await viewer.close()
    await pc.close()
    await hub.close()


async def test_one_publisher_per_key_and_the_same_one_replaces_its_session() -> None:
    hub = MediaHub(RelaySettings())
    first, first_id = await publish(hub)
    viewer = await play(hub)
    await viewer.wait_frames("video", 5)

    other = await publisher_offer(synthetic_tracks())
    with pytest.raises(PublisherExistsError):
        await hub.publish("room", "bob", sdp_of(other))
    await other.close()

    second, second_id = await publish(hub)
    assert second_id != first_id
    assert hub.session(first_id) is None
    assert hub.recently_ended(first_id) == "room"
    seen = viewer.frames["video"]
    await first.close()
    await viewer.wait_frames("video", seen + 20)  # the viewer stays, fed by the new session
    await viewer.close()
    await second.close()
    await hub.close()


async def test_ending_the_publication_ends_viewers_and_leaks_nothing() -> None:
    ended: list[tuple[str, str]] = []

    async def on_end(key: str, session_id: str, reason: str) -> None:
        ended.append((key, session_id))

    tasks_before = len(asyncio.all_tasks())
    hub = MediaHub(RelaySettings(), on_end)
    pc, session_id = await publish(hub)
    viewers = [await play(hub) for _ in range(2)]
    for viewer in viewers:
        await viewer.wait_frames("video", 3)

    assert await hub.end_session(session_id)
    assert ended == [("room", session_id)]
    assert not hub.is_live("room")
    assert hub.count_sessions() == 0
    for viewer in viewers:
        await wait_for(lambda v=viewer: v.pc.connectionState == "closed", 10, "viewer closed")
        await viewer.close()
    late = Viewer()
    with pytest.raises(NotPublishingError):
        await hub.play("room", await late.offer())
    await late.close()
    await pc.close()
    await hub.close()
    await wait_for(lambda: len(asyncio.all_tasks()) <= tasks_before, 10, "tasks to end")


async def test_a_silent_publisher_is_ended_by_the_idle_timeout() -> None:
    ended: list[str] = []

    async def on_end(key: str, session_id: str, reason: str) -> None:
        ended.append(reason)

    hub = MediaHub(RelaySettings(publisher_idle_timeout_s=0.5), on_end)
    pc, _ = await publish(hub)
    await wait_for(
        lambda: hub.stats("room")["publication"]["tracks"]["video"]["frames_in"] > 5  # type: ignore[index]
    )
    for sender in pc.getSenders():
        await sender.stop()  # media stops, ICE stays up: what a crashed encoder looks like

    await wait_for(lambda: bool(ended), 10, "idle end")
    assert "no media" in ended[0]
    await pc.close()
    await hub.close()


def rsa_certificate() -> RTCCertificate:
    """A certificate like GStreamer 1.22's default one: RSA 2048."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gstreamer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return RTCCertificate(key=key, cert=cert)  # type: ignore[arg-type]


async def test_a_publisher_with_an_rsa_certificate_completes_the_dtls_handshake() -> None:
    hub = MediaHub(RelaySettings())
    pc = new_pc()
    pc._RTCPeerConnection__certificates = [rsa_certificate()]  # type: ignore[attr-defined]
    for track in synthetic_tracks():
        pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    _session_id, answer = await hub.publish("room", "alice", sdp_of(pc))
    assert "a=setup:active" in answer  # the server is the DTLS client: the failing case
    await accept(pc, answer)

    await wait_for(lambda: pc.connectionState == "connected", 10, "DTLS with an RSA peer")
    await wait_for(
        lambda: hub.stats("room")["publication"]["tracks"]["video"]["frames_in"] > 3  # type: ignore[index]
    )
    await pc.close()
    await hub.close()


async def test_an_obs_like_high_profile_h264_offer_is_accepted_and_played() -> None:
    """OBS offers H.264 High; the relay matches the profile (RFC 6184) and forwards it."""
    hub = MediaHub(RelaySettings())
    pc = await publisher_offer(synthetic_tracks(), "video/H264", "640c34")
    high = sdp_of(pc).replace("profile-level-id=640c34", "profile-level-id=640c1f")
    assert "640c1f" in high
    _, answer = await hub.publish("room", "alice", high)
    assert "profile-level-id=640c" in answer
    await accept(pc, answer)
    viewer = await play(hub)
    await viewer.wait_frames("video", 10)

    assert hub.stats("room")["publication"]["tracks"]["video"]["codec"] == "video/H264"  # type: ignore[index]
    await viewer.close()
    await pc.close()
    await hub.close()


async def test_viewers_senders_send_frame_by_frame_and_keep_their_rtcp_counters() -> None:
    hub = MediaHub(RelaySettings())
    pc, _ = await publish(hub)
    viewer = await play(hub)
    await viewer.wait_frames("video", 10)

    subscription = next(iter(hub._broadcasts["room"].subscriptions.values()))
    for sender in subscription._pc.getSenders():
        assert getattr(sender, RUN_RTP).__func__ is run_frame_sender
        report = await sender.getStats()
        outbound = next(s for s in report.values() if s.type == "outbound-rtp")
        assert outbound.packetsSent > 10
        assert outbound.bytesSent > 1000
    await viewer.close()
    await pc.close()
    await hub.close()


async def test_a_viewer_whose_network_vanishes_is_ended_by_ice_consent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No DTLS goodbye, no DELETE: consent freshness (RFC 7675) notices, sped up here."""
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)
    monkeypatch.setattr(aioice.ice, "CONSENT_FAILURES", 2)
    hub = MediaHub(RelaySettings())
    pc, _ = await publish(hub)
    viewer = await play(hub)
    await viewer.wait_frames("video", 5)
    assert hub.count_sessions() == 2

    ice = viewer.pc.getTransceivers()[0].receiver.transport.transport._connection
    for protocol in ice._protocols:
        protocol.transport.close()  # the viewer's sockets are gone, silently

    await wait_for(lambda: hub.count_sessions() == 1, 15, "the viewer's session to end")
    assert hub.stats("room")["viewers"] == 0  # type: ignore[index]
    await viewer.close()
    await pc.close()
    await hub.close()


async def test_a_viewers_keyframe_request_reaches_a_publisher_that_honours_it() -> None:
    hub = MediaHub(RelaySettings())
    pc, _ = await publish(hub)
    viewer = await play(hub)
    await viewer.wait_frames("video", 10)
    video = next(t for t in viewer.pc.getTransceivers() if t.kind == "video")
    ssrc = video.receiver.getSynchronizationSources()[0].source

    def counters() -> tuple[int, int, int]:
        stats = hub.stats("room")
        assert stats is not None
        track = stats["publication"]["tracks"]["video"]
        asked = stats["subscriptions"][0]["tracks"]["video"]["keyframe_requests"]
        return asked, track["keyframe_requests_sent"], track["keyframes_in"]

    _, sent_before, keyframes_before = counters()
    await video.receiver._send_rtcp_pli(ssrc)  # what a player does after losing pictures

    await wait_for(lambda: counters()[0] == 1, 5, "the viewer's PLI at the relay")
    await wait_for(lambda: counters()[1] > sent_before, 5, "a PLI sent upstream")
    await wait_for(lambda: counters()[2] > keyframes_before, 5, "a new keyframe")
    seen = viewer.frames["video"]
    await viewer.wait_frames("video", seen + 10)  # and the viewer decodes on
    await viewer.close()
    await pc.close()
    await hub.close()
