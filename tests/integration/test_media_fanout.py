"""The batched fan-out (media/fanout.py) with real aiortc peers: what each viewer gets on
the wire is what aiortc's own sender would have written, frame by frame."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiortc import RTCRtpSender
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket, wrap_rtx

from media.aiortc_patches import sender_state
from media.fanout import SentPacket
from media.hub import MediaHub
from media.settings import RelaySettings
from tests.integration.media_peers import Viewer, accept, publisher_offer, synthetic_tracks
from tests.integration.test_media_hub import play, sdp_of

pytestmark = pytest.mark.timeout(60)


def video_sender(hub: MediaHub, index: int) -> RTCRtpSender:
    subscription = list(hub._broadcasts["room"].subscriptions.values())[index]
    return next(s for s in subscription._pc.getSenders() if s.kind == "video")


def history(sender: RTCRtpSender) -> list[SentPacket]:
    """The sent packets as aiortc's NACK handling finds them, oldest first."""
    kept = sender_state(sender).history
    packets = [kept.get(i) for i in range(RTP_HISTORY_SIZE)]
    sent = [p for p in packets if p is not None]
    assert all(isinstance(p, SentPacket) for p in sent)
    newest = max(sent, key=lambda p: p.timestamp).sequence_number  # no wrap within a test
    return sorted(sent, key=lambda p: (p.sequence_number - newest - 1) % (1 << 16))


async def test_each_viewers_packets_are_byte_for_byte_what_aiortc_would_serialize() -> None:
    hub = MediaHub(RelaySettings())
    pc = await publisher_offer(synthetic_tracks(320, 240), "video/VP8")
    _, answer = await hub.publish("room", "alice", sdp_of(pc))
    await accept(pc, answer)
    viewers: list[Viewer] = [await play(hub) for _ in range(3)]
    for viewer in viewers:
        await viewer.wait_frames("video", 30)

    ssrcs = set()
    for index in range(3):
        sender = video_sender(hub, index)
        state = sender_state(sender)
        packets = history(sender)
        assert len(packets) > 20
        pictures: list[int] = []
        for sent in packets:
            data = sent.serialize(state.extensions_map)
            parsed = RtpPacket.parse(data, state.extensions_map)
            assert parsed.serialize(state.extensions_map) == data
            assert parsed.ssrc == state.ssrc
            assert parsed.extensions.mid == state.mid
            assert parsed.extensions.abs_send_time is not None
            descriptor, _ = VpxPayloadDescriptor.parse(parsed.payload)
            if descriptor.partition_start:
                assert descriptor.picture_id is not None
                pictures.append(descriptor.picture_id)
        # Packed once for all viewers, the publisher's frames keep consecutive picture ids.
        assert all(b == (a + 1) % (1 << 15) for a, b in itertools.pairwise(pictures))
        ssrcs.add(state.ssrc)
    assert len(ssrcs) == 3
    for viewer in viewers:
        await viewer.close()
    await pc.close()
    await hub.close()


async def test_a_nack_is_answered_from_the_history_as_aiortc_would() -> None:
    hub = MediaHub(RelaySettings())
    pc = await publisher_offer(synthetic_tracks(320, 240), "video/VP8")
    _, answer = await hub.publish("room", "alice", sdp_of(pc))
    await accept(pc, answer)
    viewer = await play(hub)
    await viewer.wait_frames("video", 10)
    sender = video_sender(hub, 0)
    state = sender_state(sender)
    sent = history(sender)[-1]
    plain = RtpPacket.parse(sent.serialize(state.extensions_map), state.extensions_map)

    rtx = wrap_rtx(sent, payload_type=97, sequence_number=7, ssrc=1234)
    expected = wrap_rtx(plain, payload_type=97, sequence_number=7, ssrc=1234)
    assert rtx.serialize(state.extensions_map) == expected.serialize(state.extensions_map)
    receiver = next(r for r in viewer.pc.getReceivers() if r.track.kind == "video")
    arrived: list[RtpPacket] = []
    handle = receiver._handle_rtp_packet

    async def record(packet: RtpPacket, arrival_time_ms: int) -> None:
        arrived.append(packet)
        await handle(packet, arrival_time_ms)

    receiver._handle_rtp_packet = record  # type: ignore[method-assign]
    await sender._retransmit(sent.sequence_number)  # what the viewer's NACK runs
    seq = sent.sequence_number.to_bytes(2, "big")
    deadline = asyncio.get_running_loop().time() + 5
    while not any(
        (p.payload_type != plain.payload_type and p.payload[:2] == seq)
        or (p.ssrc == plain.ssrc and p.sequence_number == sent.sequence_number)
        for p in arrived
    ):
        assert asyncio.get_running_loop().time() < deadline, "the retransmission never came"
        await asyncio.sleep(0.02)
    await viewer.close()
    await pc.close()
    await hub.close()
