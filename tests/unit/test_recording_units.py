"""The packager's pure parts: playlists, box splitting, codec configuration, timestamps."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from media.codec_config import (
    annexb_units,
    h264_parameter_sets,
    h264_size,
    length_prefixed_units,
    opus_head,
    vp8_size,
)
from media.disk import DiskBudget, DiskCapError
from media.mp4_boxes import BoxSplitter, fragment_start
from media.playlist import Segment, parse, render, target_duration
from media.recorder import WRAP, _Unwrapper, lock_directory
from media.recovery import finalise

# An SPS of 320x240 Constrained Baseline and a PPS, as x264 writes them.
SPS = bytes.fromhex("6742c00dda0507e840000003004000000f23c50aa8")
PPS = bytes.fromhex("68ce0fc8")


def test_a_live_playlist_is_an_event_and_a_finished_one_is_vod_with_an_end() -> None:
    segments = [Segment("seg_000000.m4s", 2.0), Segment("seg_000001.m4s", 2.1)]
    live = render(segments, 2.0, finished=False)
    done = render(segments, 2.0, finished=True)
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in live
    assert "#EXT-X-ENDLIST" not in live
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in done
    assert done.rstrip().endswith("#EXT-X-ENDLIST")
    assert '#EXT-X-MAP:URI="init.mp4"' in done
    assert parse(done) == segments


@pytest.mark.parametrize(
    ("durations", "target"),
    [
        ([2.0, 2.0], 2),  # the steady case: no more than the segments need
        ([2.0, 3.0, 3.0], 3),  # a 1.5 s keyframe interval: 3 s segments
        ([2.0, 6.4, 2.0], 6),  # a 6 s keyframe interval: the target follows it
        ([2.4, 2.6], 3),  # each EXTINF rounded must fit (RFC 8216 §4.3.3.1)
        ([2.5], 3),  # half rounds up, whatever a player's rounding
        ([0.4], 2),  # never below the configured target
    ],
)
def test_the_target_duration_holds_for_every_segment_even_with_long_gops(
    durations: list[float], target: int
) -> None:
    segments = [Segment(f"seg_{n:06d}.m4s", d) for n, d in enumerate(durations)]
    assert target_duration(segments, 2.0) == target
    for finished in (False, True):
        text = render(segments, 2.0, finished=finished)
        target = int(text.split("#EXT-X-TARGETDURATION:")[1].splitlines()[0])
        assert all(round(d) <= target for d in durations)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def test_boxes_come_out_whole_whatever_the_chunking() -> None:
    tfhd = box(b"tfhd", b"\x00\x02\x00\x00" + struct.pack(">I", 1))
    tfdt = box(b"tfdt", b"\x01\x00\x00\x00" + struct.pack(">Q", 270_000))
    moof = box(b"moof", box(b"mfhd", b"\x00" * 8) + box(b"traf", tfhd + tfdt))
    stream = box(b"ftyp", b"isom") + moof + box(b"mdat", b"x" * 100)
    for size in (1, 7, 64, len(stream)):
        splitter = BoxSplitter()
        boxes = []
        for at in range(0, len(stream), size):
            boxes += splitter.feed(stream[at : at + size])
        assert [b.kind for b in boxes] == [b"ftyp", b"moof", b"mdat"]
    assert fragment_start(moof, 1) == 270_000
    assert fragment_start(moof, 2) is None


def test_a_box_that_lies_about_its_size_is_refused() -> None:
    with pytest.raises(ValueError, match="smaller than its header"):
        BoxSplitter().feed(struct.pack(">I", 4) + b"moofxxxx")


def test_parameter_sets_and_picture_size_come_from_the_keyframe() -> None:
    idr = b"\x65\x88\x84"
    keyframe = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS + b"\x00\x00\x01" + idr
    assert annexb_units(keyframe) == [SPS, PPS, idr]
    sets = h264_parameter_sets(keyframe)
    assert sets == b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS
    assert h264_size(sets) == (320, 240)
    assert h264_parameter_sets(b"\x00\x00\x01" + idr) is None
    prefixed = struct.pack(">I", len(SPS)) + SPS + struct.pack(">I", len(idr)) + idr
    assert length_prefixed_units(prefixed) == [SPS, idr]
    with pytest.raises(ValueError, match="out of range"):
        length_prefixed_units(struct.pack(">I", 99) + idr)


def test_vp8_size_is_read_from_keyframes_only() -> None:
    keyframe = b"\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", 640, 360) + b"\x00" * 4
    assert vp8_size(keyframe) == (640, 360)
    assert vp8_size(b"\x11" + keyframe[1:]) is None


def test_opus_head_is_the_rfc_7845_header() -> None:
    head = opus_head()
    assert head[:8] == b"OpusHead"
    assert len(head) == 19
    assert head[9] == 2


def test_rtp_timestamps_keep_rising_across_a_wrap() -> None:
    unwrap = _Unwrapper()
    values = [WRAP - 6000, WRAP - 3000, 0, 3000]
    assert [unwrap(v) for v in values] == [WRAP - 6000, WRAP - 3000, WRAP, WRAP + 3000]


def test_the_disk_budget_refuses_past_its_cap_and_takes_freed_bytes_back() -> None:
    budget = DiskBudget(100, used_bytes=60)
    budget.take(40)
    with pytest.raises(DiskCapError):
        budget.take(1)
    budget.give_back(50)
    budget.take(50)
    assert budget.used_bytes == 100
    DiskBudget(0).take(10**12)  # no cap


def test_a_recording_directory_in_use_is_never_finalised_by_another(tmp_path: Path) -> None:
    directory = tmp_path / "room-0123456789ab"
    directory.mkdir()
    (directory / "recording.json").write_text('{"state": "recording", "format": "hls"}')
    (directory / "index.m3u8").write_text(
        render([Segment("seg_000000.m4s", 2.0)], 2.0, finished=False)
    )
    held = lock_directory(directory)
    assert held is not None
    assert lock_directory(directory) is None  # a second recorder, even in this process
    assert finalise(directory, 2.0) is None  # a live recorder holds it: left alone
    assert "EVENT" in (directory / "index.m3u8").read_text()
    os.close(held)  # the recorder's process ended (a SIGKILL drops it the same way)
    result = finalise(directory, 2.0)
    assert result is not None
    assert result.stopped == "node_stopped"
    assert "#EXT-X-ENDLIST" in (directory / "index.m3u8").read_text()
    assert finalise(directory, 2.0) is None  # once
