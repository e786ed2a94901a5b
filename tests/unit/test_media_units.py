"""The relay's pieces on their own: keyframes, queues, GOP cache, rate-limited PLI, codecs.

The patches that extend aiortc's codec table: test_media_aiortc_patches.py."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import pytest
from aiortc.sdp import H264Profile

from media.codecs import h264_nal_types, h264_profile, is_keyframe
from media.frames import EncodedFrame
from media.keyframes import KeyframeRequester
from media.relay import TrackRelay
from media.track import PacketTrack

VP8_KEY = bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A])
VP8_DELTA = bytes([0x11, 0x02, 0x00])
H264_IDR = b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88"
H264_SLICE = b"\x00\x00\x00\x01\x41\x9a"


def frame(keyframe: bool, pts: int = 0) -> EncodedFrame:
    return EncodedFrame.build(VP8_KEY if keyframe else VP8_DELTA, pts, Fraction(1, 90000), keyframe)


def relay(queue_frames: int = 4, gop_cache_frames: int = 100) -> TrackRelay:
    return TrackRelay(
        "video",
        "video/VP8",
        90000,
        queue_frames=queue_frames,
        gop_cache_frames=gop_cache_frames,
        keyframe_interval_s=0.3,
    )


# Codecs


def test_vp8_keyframe_is_bit_zero_of_the_first_byte_clear() -> None:
    assert is_keyframe("video/VP8", VP8_KEY)
    assert not is_keyframe("video/VP8", VP8_DELTA)
    assert not is_keyframe("video/VP8", b"")


def test_h264_keyframe_is_an_idr_or_sps_nal() -> None:
    assert h264_nal_types(H264_IDR) == [7, 8, 5]
    assert is_keyframe("video/H264", H264_IDR)
    assert not is_keyframe("video/H264", H264_SLICE)


def test_audio_frames_are_all_keyframes() -> None:
    assert is_keyframe("audio/opus", b"\x01")


@pytest.mark.parametrize(
    ("profile_level_id", "profile"),
    [
        ("42e01f", H264Profile.PROFILE_CONSTRAINED_BASELINE),
        ("42001f", H264Profile.PROFILE_BASELINE),
        ("4d0032", H264Profile.PROFILE_MAIN),
        ("640c1f", H264Profile.PROFILE_CONSTRAINED_HIGH),
        ("64001f", H264Profile.PROFILE_HIGH),
        ("640028", H264Profile.PROFILE_HIGH),
        ("zz", None),
    ],
)
def test_h264_profile_is_read_from_profile_idc_and_iop(
    profile_level_id: str, profile: H264Profile | None
) -> None:
    assert h264_profile(profile_level_id) == profile


# The viewer's queue


async def test_a_video_viewer_starts_at_a_keyframe() -> None:
    track = PacketTrack("video", 4)
    track.start()
    track.offer(frame(False))
    track.offer(frame(True, 1))
    track.offer(frame(False, 2))

    assert track.stats.frames_dropped == 1
    assert (await track.recv()).pts == 1
    assert (await track.recv()).pts == 2


async def test_overflow_drops_the_backlog_and_every_frame_until_the_next_keyframe() -> None:
    wanted: list[int] = []
    track = PacketTrack("video", 3, lambda: wanted.append(1))
    track.start()
    for pts, key in enumerate([True, False, False, False, False, True, False]):
        track.offer(frame(key, pts))

    assert wanted == [1]
    assert track.stats.frames_dropped == 5  # 3 queued, the one that overflowed, 1 more delta
    assert [(await track.recv()).pts for _ in range(track.queued)] == [5, 6]


async def test_audio_overflow_drops_only_the_backlog() -> None:
    track = PacketTrack("audio", 2)
    track.start()
    for pts in range(3):
        track.offer(EncodedFrame.build(b"\x01", pts, Fraction(1, 48000), True))

    assert track.stats.frames_dropped == 2
    assert (await track.recv()).pts == 2


async def test_a_viewers_keyframe_request_skips_to_the_next_keyframe() -> None:
    wanted: list[int] = []
    track = PacketTrack("video", 10, lambda: wanted.append(1))
    track.start()
    track.offer(frame(True, 0))
    track.request_keyframe()
    track.offer(frame(False, 1))
    track.offer(frame(True, 2))

    assert wanted == [1]
    assert track.stats.keyframe_requests == 1
    assert (await track.recv()).pts == 2


async def test_frames_wait_for_the_viewer_to_start_reading() -> None:
    hub = relay()
    track = hub.subscribe()
    hub.push(VP8_KEY, 0)
    hub.push(VP8_DELTA, 3000)
    assert track.queued == 0  # still connecting: nothing piles up

    hub.push(VP8_KEY, 6000)
    assert (await track.recv()).pts == 6000  # starts from the freshest group
    assert track.stats.frames_dropped == 0
    await hub.close()


async def test_stopping_a_track_ends_a_pending_recv() -> None:
    from aiortc.mediastreams import MediaStreamError

    track = PacketTrack("video", 4)
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await pending


# The relay


async def test_a_late_joiner_gets_the_current_group_of_pictures_squeezed_before_now() -> None:
    hub = relay(queue_frames=2)
    for i, key in enumerate([True, False, True, False, False]):
        hub.push(VP8_KEY if key else VP8_DELTA, i * 3000)
    track = hub.subscribe()

    pts = [(await track.recv()).pts for _ in range(3)]
    assert pts == [12000 - 180, 12000 - 90, 12000]
    hub.push(VP8_DELTA, 15000)
    assert (await track.recv()).pts == 15000
    assert track.stats.frames_dropped == 0
    await hub.close()


async def test_without_a_cached_keyframe_a_joiner_waits_and_a_keyframe_is_requested() -> None:
    hub = relay()
    sent: list[int] = []

    async def pli() -> None:
        sent.append(1)

    hub.set_upstream(pli)
    hub.push(VP8_DELTA, 0)
    track = hub.subscribe()
    track.start()
    await asyncio.sleep(0.01)

    assert sent == [1]
    assert hub.stats.keyframe_requests_sent == 1
    hub.push(VP8_DELTA, 3000)
    hub.push(VP8_KEY, 6000)
    assert (await track.recv()).pts == 6000
    await hub.close()


async def test_a_group_as_long_as_the_cache_is_replayed() -> None:
    hub = relay(gop_cache_frames=2)
    for i, key in enumerate([True, False]):
        hub.push(VP8_KEY if key else VP8_DELTA, i * 3000)
    track = hub.subscribe()
    track.start()  # the viewer's sender starts reading: the cached group is handed over

    assert track.queued == 2
    assert not track.waiting_for_keyframe
    await hub.close()


async def test_a_group_longer_than_the_cache_is_not_replayed() -> None:
    hub = relay(gop_cache_frames=2)
    sent: list[int] = []

    async def pli() -> None:
        sent.append(1)

    hub.set_upstream(pli)
    for i, key in enumerate([True, False, False]):
        hub.push(VP8_KEY if key else VP8_DELTA, i * 3000)
    track = hub.subscribe()
    track.start()  # the viewer's sender starts reading: nothing to hand over
    await asyncio.sleep(0.01)

    assert track.queued == 0
    assert track.waiting_for_keyframe
    assert sent == [1]  # a keyframe is asked for instead
    hub.push(VP8_DELTA, 9000)
    hub.push(VP8_KEY, 12000)
    assert (await track.recv()).pts == 12000
    await hub.close()


async def test_a_new_source_keeps_timestamps_rising() -> None:
    hub = relay()
    track = hub.subscribe()
    track.start()
    hub.push(VP8_KEY, 900_000)
    hub.new_source()
    hub.push(VP8_KEY, 0)

    assert (await track.recv()).pts == 900_000
    assert (await track.recv()).pts == 903_000
    await hub.close()


async def test_a_new_sources_first_frame_if_no_keyframe_asks_the_new_publisher_at_once() -> None:
    """A handover: the PLI that new_source sent went to the old publisher moments ago; the
    new one is asked as soon as its first frame shows it owes a keyframe, not an
    interval later."""
    hub = relay()
    old: list[int] = []
    new: list[int] = []

    async def old_pli() -> None:
        old.append(1)

    async def new_pli() -> None:
        new.append(1)

    hub.set_upstream(old_pli)
    track = hub.subscribe()
    track.start()
    hub.push(VP8_KEY, 0)
    assert (await track.recv()).pts == 0
    hub.new_source()
    await asyncio.sleep(0.01)
    assert old == [1]  # the viewer now waits for a keyframe of the new source
    hub.set_upstream(new_pli)
    hub.push(VP8_DELTA, 0)
    await asyncio.sleep(0.01)

    assert new == [1]  # at once, inside the 0.3 s interval of the request before
    hub.push(VP8_DELTA, 3000)
    await asyncio.sleep(0.01)
    assert new == [1]  # only the first frame of a source asks at once
    hub.push(VP8_KEY, 6000)
    assert not track.waiting_for_keyframe
    assert track.queued == 1  # the deltas before it were skipped
    await hub.close()


# Keyframe requests


async def test_keyframe_requests_are_rate_limited_but_never_dropped() -> None:
    sent: list[float] = []
    loop = asyncio.get_running_loop()
    waiting = True

    async def send() -> None:
        sent.append(loop.time())

    requester = KeyframeRequester(send, lambda: waiting, interval_s=0.05)
    for _ in range(10):
        requester.request()
    await asyncio.sleep(0.01)
    assert len(sent) == 1  # ten requests inside one interval: one PLI now
    await asyncio.sleep(0.12)
    assert len(sent) >= 2  # someone still waits: sent again after the interval
    waiting = False
    count = len(sent)
    await asyncio.sleep(0.12)
    assert len(sent) == count
    await requester.close()
