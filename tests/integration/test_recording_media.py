"""The packager with real aiortc publishers: recordings hold the published frames as sent."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc import RTCPeerConnection

from clients.anchor.testsrc import ToneAudioTrack
from media.disk import DiskBudget
from media.hub import MediaHub
from media.playlist import PLAYLIST_NAME, parse
from media.recorder import PackagerSettings, Recorder, RecordingResult
from media.relay import TrackRelay
from media.settings import RelaySettings
from media.webm_writer import WEBM_NAME
from tests.integration.encoded_source import EncodedVideoTrack, payload_hash
from tests.integration.media_peers import accept, new_pc, publisher_offer, synthetic_tracks

pytestmark = pytest.mark.timeout(90)


class Recordings:
    """Starts a recorder for every publication of a hub, like the application does."""

    def __init__(self, root: Path, budget: DiskBudget | None = None) -> None:
        self.root = root
        self.budget = budget or DiskBudget(0)
        self.recorders: list[Recorder] = []

    def __call__(self, key: str, publisher: str, relays: dict[str, TrackRelay]) -> None:
        video = relays.get("video")
        if video is None:
            return
        recorder = Recorder(
            self.root / f"{key}-{len(self.recorders)}",
            video.mime_type,
            with_audio="audio" in relays,
            settings=PackagerSettings(target_segment_s=2.0),
            budget=self.budget,
        )
        for relay in relays.values():
            relay.add_consumer(recorder)
        self.recorders.append(recorder)


async def publish_for(
    hub: MediaHub, mime: str, seconds: float
) -> tuple[EncodedVideoTrack, RTCPeerConnection]:
    track = EncodedVideoTrack(mime)
    pc = await publisher_offer([track, ToneAudioTrack()], mime)
    assert pc.localDescription is not None
    session_id, answer = await hub.publish("room", "alice", pc.localDescription.sdp)
    await accept(pc, answer)
    await asyncio.sleep(seconds)
    await hub.end_session(session_id)
    await pc.close()
    return track, pc


def recorded_video(result: RecordingResult) -> tuple[list[bytes], float, list[str]]:
    """Video packets, video duration and stream codecs of the recording, read by PyAV."""
    if result.format == "hls":
        path = result.directory / "whole.mp4"
        parts = [(result.directory / "init.mp4").read_bytes()]
        parts += [(result.directory / s.name).read_bytes() for s in result.segments]
        path.write_bytes(b"".join(parts))
    else:
        path = result.directory / WEBM_NAME
    container: Any = av.open(str(path))
    try:
        codecs = [s.codec_context.name for s in container.streams]
        packets: list[bytes] = []
        times: list[float] = []
        for packet in container.demux(video=0):
            if packet.size:
                packets.append(bytes(packet))
                times.append(float(packet.pts * packet.time_base))
        return packets, max(times) - min(times), codecs
    finally:
        container.close()


@pytest.mark.parametrize("mime", ["video/h264", "video/vp8"])
async def test_a_recording_holds_the_published_frames_byte_for_byte(
    mime: str, tmp_path: Path
) -> None:
    recordings = Recordings(tmp_path)
    hub = MediaHub(RelaySettings(), on_relays=recordings)
    try:
        track, _pc = await publish_for(hub, mime, 6.0)
    finally:
        await hub.close()
    assert len(recordings.recorders) == 1
    result = await asyncio.wait_for(recordings.recorders[0].wait(), 20)
    assert result.stopped is None
    packets, duration, codecs = recorded_video(result)
    assert codecs == (["h264", "opus"] if mime == "video/h264" else ["vp8", "opus"])
    published = [payload_hash(mime, data) for data in track.sent]
    recorded = [payload_hash(mime, data, length_prefixed=True) for data in packets]
    assert recorded, "nothing recorded"
    assert set(recorded) <= set(published)
    # The recording runs from a keyframe to the end: a contiguous run of what was sent.
    start = published.index(recorded[0])
    assert recorded == published[start : start + len(recorded)]
    expected_s = (len(recorded) - 1) / 30
    assert abs(duration - expected_s) <= 1.0
    assert abs(result.duration_s - duration) <= 1.0
    if mime == "video/h264":
        playlist = (result.directory / PLAYLIST_NAME).read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
        assert "#EXT-X-ENDLIST" in playlist
        assert len(parse(playlist)) >= 2
        with av.open(str(result.directory / PLAYLIST_NAME)) as hls:
            assert abs(float(hls.duration or 0) / 1e6 - duration) <= 1.0


async def test_recording_prefers_h264_in_the_answer_when_the_offer_allows_it() -> None:
    answers = {}
    for prefer in ("", "video/h264"):
        hub = MediaHub(RelaySettings(prefer_video=prefer))
        pc = new_pc()
        for track in synthetic_tracks():
            pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        assert pc.localDescription is not None
        offered = pc.localDescription.sdp.split("m=video", 1)[1]
        assert offered.index("VP8/90000") < offered.index("H264/90000")  # VP8 offered first
        try:
            _, answer = await hub.publish("room", "alice", pc.localDescription.sdp)
            answers[prefer] = answer.split("m=video", 1)[1]
        finally:
            await pc.close()
            await hub.close()
    assert "VP8/90000" in answers[""]
    assert "H264/90000" not in answers[""]
    assert "H264/90000" in answers["video/h264"]
    assert "VP8/90000" not in answers["video/h264"]


async def test_one_recording_per_publication_and_a_reconnect_with_the_same_codecs_continues_it(
    tmp_path: Path,
) -> None:
    recordings = Recordings(tmp_path)
    hub = MediaHub(RelaySettings(), on_relays=recordings)
    peers = []
    try:
        for codec in ("video/h264", "video/h264", "video/vp8"):
            track = EncodedVideoTrack(codec)
            pc = await publisher_offer([track, ToneAudioTrack()], codec)
            assert pc.localDescription is not None
            _, answer = await hub.publish("room", "alice", pc.localDescription.sdp)
            await accept(pc, answer)
            peers.append(pc)
            await asyncio.sleep(1.5)
        # The same anchor again with H.264 kept the relays (and the recording); VP8 made
        # new relays, so the H.264 recording ended and a VP8 one began.
        assert [r.format for r in recordings.recorders] == ["hls", "webm"]
        first = await asyncio.wait_for(recordings.recorders[0].wait(), 20)
        assert first.stopped is None
    finally:
        await hub.close()
        for pc in peers:
            await pc.close()
    second = await asyncio.wait_for(recordings.recorders[1].wait(), 20)
    assert second.format == "webm"
