"""Each patch and accessor of media/aiortc_patches.py still takes effect on the pinned aiortc
and aioice (through aiortc's and aioice's own code paths, no network), and other versions
are refused. The same patches with real peers: tests/integration/test_media_hub.py, test_nat.py.
"""

from __future__ import annotations

import ast
import asyncio
import re
import threading
import tomllib
from pathlib import Path

import aioice
import aioice.ice
import pytest
from aiortc import MediaStreamTrack, RTCCertificate, RTCPeerConnection, RTCRtpSender
from aiortc.codecs import CODECS
from aiortc.mediastreams import VideoStreamTrack
from aiortc.rtcdtlstransport import SRTP_PROFILES
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import RTCP_PSFB_FIR, RTCP_PSFB_PLI, RTP_HISTORY_SIZE, RtcpPsfbPacket, RtpPacket
from OpenSSL import SSL

from media import aiortc_patches
from media.aiortc_patches import (
    CREATE_SSL_CONTEXT,
    DECODER_QUEUE,
    DECODER_THREAD,
    EXPECTED_VERSIONS,
    JITTER_BUFFER,
    PATCH_MARK,
    RUN_RTP,
    MarkerJitterBuffer,
    TapUnavailableError,
    UnsupportedVersionError,
    check_versions,
    configure_ice,
    include_loopback_candidates,
    install,
    install_tap,
    installed_versions,
    negotiated_codecs,
    record_sent,
    replace_history,
    replace_send_loop,
    route_keyframe_requests,
    rtp_route,
    sender_state,
)
from media.codecs import capability_of, choose_codec, h264_profile
from media.sender import install_frame_sender, run_frame_sender

ROOT = Path(__file__).resolve().parents[2]
VP8_KEY = bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A])


def vp8() -> RTCRtpCodecParameters:
    return next(c for c in CODECS["video"] if c.mimeType == "video/VP8")


def fake_distribution(root: Path, name: str, version: str) -> None:
    """What pip leaves for an installed package, as importlib.metadata reads it."""
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


# Versions


def test_the_expected_versions_are_the_ones_pyproject_pins_and_installed() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(
        match.groups()
        for match in (re.match(r"(aiortc|aioice)==([\w.]+)$", d.strip()) for d in dependencies)
        if match
    )
    assert pins == EXPECTED_VERSIONS
    assert installed_versions() == EXPECTED_VERSIONS
    check_versions(installed_versions())


@pytest.mark.parametrize(
    ("found", "named"),
    [
        (
            {"aiortc": "1.15.0", "aioice": "0.13.0"},
            "aiortc 1.15.0 is installed, 1.16.0 is required",
        ),
        (
            {"aiortc": "1.16.0", "aioice": "0.14.1"},
            "aioice 0.14.1 is installed, 0.13.0 is required",
        ),
        (
            {"aiortc": "1.16.1"},
            "aiortc 1.16.1 is installed, 1.16.0 is required; aioice is not installed, 0.13.0",
        ),
    ],
)
def test_other_versions_are_refused_naming_what_was_found_and_what_is_required(
    found: dict[str, str], named: str
) -> None:
    with pytest.raises(UnsupportedVersionError, match=re.escape(named)):
        check_versions(found)


def test_install_refuses_another_installed_aiortc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distribution(tmp_path, "aiortc", "1.15.0")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert installed_versions()["aiortc"] == "1.15.0"
    with pytest.raises(UnsupportedVersionError, match=r"aiortc 1\.15\.0 is installed, 1\.16\.0"):
        install()


# Process-wide patches


def test_install_lets_every_h264_profile_negotiate_whatever_its_level() -> None:
    install()
    install()  # idempotent
    for offered in ("42e01f", "4d001f", "640c2a", "64001f", "640034"):
        remote = RTCRtpCodecParameters(
            mimeType="video/H264",
            clockRate=90000,
            payloadType=102,
            parameters={"packetization-mode": "1", "profile-level-id": offered},
        )
        local = choose_codec([remote])
        assert local is not None, offered
        assert h264_profile(str(local.parameters["profile-level-id"])) == h264_profile(offered)
    assert len([c for c in CODECS["video"] if c.mimeType == "video/H264"]) == 6


def test_install_answers_opus_in_stereo() -> None:
    install()
    opus = next(c for c in CODECS["audio"] if c.mimeType == "audio/opus")
    assert opus.parameters["stereo"] == 1
    assert opus.parameters["sprop-stereo"] == 1
    assert capability_of(opus).channels == 2


def test_install_makes_dtls_contexts_offer_rsa_suites_after_the_ecdsa_ones() -> None:
    install()
    assert getattr(getattr(RTCCertificate, CREATE_SSL_CONTEXT), PATCH_MARK)

    context = RTCCertificate.generateCertificate()._create_ssl_context(SRTP_PROFILES)
    ciphers = SSL.Connection(context, None).get_cipher_list()
    assert ciphers.index("ECDHE-ECDSA-AES128-GCM-SHA256") < ciphers.index(
        "ECDHE-RSA-AES128-GCM-SHA256"
    )


def test_loopback_candidates_can_be_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda v4, v6: ["192.0.2.9"])
    monkeypatch.setattr(aiortc_patches, "_host_addresses", None)
    include_loopback_candidates()
    include_loopback_candidates()

    assert aioice.ice.get_host_addresses(True, False) == ["192.0.2.9", "127.0.0.1"]


async def test_configure_ice_binds_aioice_in_the_range_and_announces_the_public_address() -> None:
    low, high, public_ip = 41_100, 41_119, "203.0.113.7"
    configure_ice(public_ip, (low, high))
    connection = aioice.Connection(ice_controlling=True, components=1, use_ipv6=False)
    try:
        assert aioice.ice.Connection.get_component_candidates is (aiortc_patches._gather)
        await connection.gather_candidates()
        hosts = [c for c in connection.local_candidates if c.type == "host"]
        reflexive = [c for c in connection.local_candidates if c.type == "srflx"]
    finally:
        await connection.close()
        configure_ice()  # process-wide: later tests get aioice's behaviour
    assert hosts
    assert all(low <= c.port <= high for c in hosts)
    assert {(c.related_address, c.related_port) for c in reflexive} == {
        (c.host, c.port) for c in hosts if c.host != "127.0.0.1"
    }
    assert all(c.host == public_ip for c in reflexive)


def test_configure_ice_refuses_a_bad_address_or_range() -> None:
    with pytest.raises(ValueError, match="not-an-address"):
        configure_ice("not-an-address")
    with pytest.raises(ValueError, match="must lie within 1024-65535"):
        configure_ice(None, (80, 90))
    configure_ice()


# Per-object patches


async def negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    """Offer and answer, without connecting."""
    await offerer.setLocalDescription(await offerer.createOffer())
    assert offerer.localDescription is not None
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    assert answerer.localDescription is not None
    await offerer.setRemoteDescription(answerer.localDescription)


async def test_a_tapped_receiver_hands_aiortcs_frames_to_the_sink_and_its_thread_idles() -> None:
    publisher, server = RTCPeerConnection(), RTCPeerConnection()
    publisher.addTransceiver(VideoStreamTrack(), direction="sendonly")
    frames: list[tuple[str, bytes, int]] = []
    taps: list[object] = []

    def on_track(track: MediaStreamTrack) -> None:  # where Publication taps, too
        receiver = server.getTransceivers()[0].receiver
        taps.append(
            install_tap(receiver, lambda c, data, ts: frames.append((c.mimeType, data, ts)))
        )

    server.on("track", on_track)
    try:
        await negotiate(publisher, server)
        receiver = server.getTransceivers()[0].receiver
        assert taps == [getattr(receiver, DECODER_QUEUE)]

        codec = vp8()
        await receiver.receive(RTCRtpReceiveParameters(codecs=[codec]))  # as once connected
        thread: threading.Thread = getattr(receiver, DECODER_THREAD)
        assert thread.is_alive()
        with pytest.raises(TapUnavailableError, match="already started"):
            install_tap(receiver, lambda codec, data, ts: None)
        for sequence_number, timestamp in enumerate([3000, 6000, 9000]):
            packet = RtpPacket(
                payload_type=codec.payloadType or 0,
                marker=1,
                sequence_number=sequence_number,
                timestamp=timestamp,
                ssrc=1234,
                payload=b"\x10" + VP8_KEY,  # VP8 payload descriptor: start of partition 0
            )
            await receiver._handle_rtp_packet(packet, arrival_time_ms=timestamp // 90)

        assert frames  # aiortc's jitter buffer put complete frames on the tapped queue
        assert all(mime == "video/VP8" and data == VP8_KEY for mime, data, _ in frames)
        assert receiver.track._queue.qsize() == 0  # nothing was decoded
        await asyncio.wait_for(server.close(), 5)  # the stop sentinel reached the thread
        assert not thread.is_alive()
    finally:
        await server.close()
        await publisher.close()


async def test_a_tapped_video_receiver_hands_on_a_frame_at_its_marker_packet() -> None:
    """Without the patch aiortc completes a frame only when the next frame's first packet
    arrives: one frame interval of delay at every relay hop."""
    publisher, server = RTCPeerConnection(), RTCPeerConnection()
    publisher.addTransceiver(VideoStreamTrack(), direction="sendonly")
    frames: list[tuple[bytes, int]] = []

    def on_track(track: MediaStreamTrack) -> None:
        receiver = server.getTransceivers()[0].receiver
        install_tap(receiver, lambda codec, data, ts: frames.append((data, ts)))

    server.on("track", on_track)
    try:
        await negotiate(publisher, server)
        receiver = server.getTransceivers()[0].receiver
        assert isinstance(getattr(receiver, JITTER_BUFFER), MarkerJitterBuffer)
        codec = vp8()
        await receiver.receive(RTCRtpReceiveParameters(codecs=[codec]))
        parts = [(b"\x10", VP8_KEY, 0), (b"\x00", b"middle", 0), (b"\x00", b"end", 1)]
        for sequence_number, (descriptor, data, marker) in enumerate(parts):
            packet = RtpPacket(
                payload_type=codec.payloadType or 0,
                marker=marker,
                sequence_number=sequence_number,
                timestamp=3000,
                ssrc=1234,
                payload=descriptor + data,
            )
            await receiver._handle_rtp_packet(packet, arrival_time_ms=sequence_number)
            if not marker:
                assert frames == []  # not before the frame's last packet
        assert [data for data, _ in frames] == [VP8_KEY + b"middle" + b"end"]
    finally:
        await server.close()
        await publisher.close()


def rtp(sequence_number: int, timestamp: int, data: bytes, marker: int = 0) -> RtpPacket:
    packet = RtpPacket(sequence_number=sequence_number, timestamp=timestamp, marker=marker)
    packet._data = data  # type: ignore[attr-defined]  # what the receiver depayloads
    return packet


def test_the_marker_buffer_waits_for_a_missing_packet_then_completes_the_frame() -> None:
    buffer = MarkerJitterBuffer(capacity=512, is_video=True)
    assert buffer.add(rtp(10, 90, b"a")) == (False, None)
    assert buffer.add(rtp(12, 90, b"c", marker=1)) == (False, None)  # 11 is missing
    pli, frame = buffer.add(rtp(11, 90, b"b"))  # a retransmission fills the gap
    assert frame is not None
    assert (pli, frame.data, frame.timestamp) == (False, b"abc", 90)
    _, next_frame = buffer.add(rtp(13, 180, b"d", marker=1))
    assert next_frame is not None
    assert next_frame.data == b"d"


def test_a_frame_whose_marker_is_lost_completes_when_the_next_frame_begins() -> None:
    buffer = MarkerJitterBuffer(capacity=512, is_video=True)
    buffer.add(rtp(1, 90, b"a"))
    buffer.add(rtp(2, 90, b"b"))  # its marker packet never comes
    _, frame = buffer.add(rtp(4, 180, b"x"))
    assert frame is None  # 3 could still be retransmitted
    _, frame = buffer.add(rtp(3, 180, b"w"))
    assert frame is not None
    assert frame.data == b"ab"  # aiortc's rule, as before the patch
    _, frame = buffer.add(rtp(5, 180, b"y", marker=1))
    assert frame is not None
    assert frame.data == b"wxy"


async def test_a_receiver_without_the_decoder_queue_is_refused_naming_the_version() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    delattr(receiver, DECODER_QUEUE)  # what a release that renames it looks like

    with pytest.raises(TapUnavailableError, match=r"no decoder queue to tap.*aiortc 1\.16\.0"):
        install_tap(receiver, lambda codec, data, ts: None)
    await pc.close()


def send_parameters() -> RTCRtpSendParameters:
    return RTCRtpSendParameters(codecs=[vp8()], muxId="0", rtcp=RTCRtcpParameters(cname="c"))


async def test_a_replaced_send_loop_is_what_send_runs_and_stop_waits_for_its_events() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver(VideoStreamTrack(), direction="sendonly").sender
    ran: list[str] = []

    async def loop(sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
        state = sender_state(sender)
        state.started.set()
        ran.append(f"{codec.mimeType} mid {state.mid}")
        try:
            await asyncio.Event().wait()
        finally:
            state.exited.set()

    replace_send_loop(sender, loop)
    await sender.send(send_parameters())
    await asyncio.sleep(0.01)
    assert ran == ["video/VP8 mid 0"]
    await asyncio.wait_for(sender.stop(), 5)  # hangs unless the events are aiortc's own
    await pc.close()


async def test_the_frame_sender_is_installed_and_ends_cleanly_when_not_connected() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver(VideoStreamTrack(), direction="sendonly").sender
    install_frame_sender(sender)
    assert getattr(sender, RUN_RTP).__func__ is run_frame_sender
    with pytest.raises(ConnectionError, match="not connected"):
        rtp_route(sender.transport)
    await pc.close()


async def test_a_replaced_history_is_what_the_sender_retransmits_from() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver(VideoStreamTrack(), direction="sendonly").sender
    history: dict[int, RtpPacket] = {}
    replace_history(sender, history)
    assert sender_state(sender).history is history
    asked: list[int] = []
    history_get = history.get

    class Watched(dict[int, RtpPacket]):
        def get(self, key: int, default: object = None) -> object:
            asked.append(key)
            return history_get(key)

    replace_history(sender, Watched())
    await sender._retransmit(1000)  # what a NACK for sequence number 1000 runs
    assert asked == [1000 % RTP_HISTORY_SIZE]
    await pc.close()


async def test_recorded_totals_are_what_the_senders_stats_report() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver(VideoStreamTrack(), direction="sendonly").sender
    record_sent(sender, ntp_time=1 << 40, rtp_timestamp=3000, octets=1234, packets=5)

    report = await sender.getStats()
    outbound = next(s for s in report.values() if s.type == "outbound-rtp")
    assert (outbound.packetsSent, outbound.bytesSent) == (5, 1234)
    assert sender_state(sender).ssrc == outbound.ssrc
    await pc.close()


async def test_a_viewers_pli_and_fir_reach_the_routed_callback() -> None:
    pc = RTCPeerConnection()
    sender = pc.addTransceiver(VideoStreamTrack(), direction="sendonly").sender
    requests: list[int] = []
    route_keyframe_requests(sender, lambda: requests.append(1))

    for fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
        await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=fmt, ssrc=1, media_ssrc=2))
    assert requests == [1, 1]
    await pc.close()


# Reads


async def test_negotiated_codecs_are_the_answers_codecs() -> None:
    viewer, server = RTCPeerConnection(), RTCPeerConnection()
    transceiver = viewer.addTransceiver("video", direction="recvonly")
    assert negotiated_codecs(transceiver) == []
    server.addTransceiver(VideoStreamTrack(), direction="sendonly")
    server.getTransceivers()[0].setCodecPreferences([capability_of(vp8())])
    await negotiate(server, viewer)

    codecs = negotiated_codecs(transceiver)
    assert codecs[0].mimeType == "video/VP8"
    assert {c.mimeType for c in codecs[1:]} <= {"video/rtx"}
    await viewer.close()
    await server.close()


# One place


def private_reaches(path: Path) -> list[str]:
    """``x._name`` where ``x`` is not ``self``/``cls``, and getattr/setattr with ``"_name"``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            found.append(f"{path.name}:{node.lineno} {node.func.id} {node.args[1].value}")
    return found


def test_no_other_media_module_reaches_into_private_attributes() -> None:
    modules = [p for p in (ROOT / "media").glob("*.py") if p.name != "aiortc_patches.py"]
    assert len(modules) > 10
    assert [reach for path in modules for reach in private_reaches(path)] == []
    assert private_reaches(ROOT / "media" / "aiortc_patches.py")  # the check sees them
