"""Node-wide media counters: live tracks and closed ones, never going down."""

from __future__ import annotations

from media.stats import MediaCounters, TrackInStats, TrackOutStats


def test_totals_sum_running_tracks_by_kind() -> None:
    counters = MediaCounters()
    video_in, audio_in = TrackInStats(), TrackInStats()
    counters.track_in("video", video_in)
    counters.track_in("audio", audio_in)
    viewers = [TrackOutStats(), TrackOutStats()]
    for stats in viewers:
        counters.track_out("video", stats)
    video_in.frames_in, video_in.keyframe_requests_sent = 30, 2
    audio_in.frames_in, audio_in.bytes_in = 50, 4000
    viewers[0].frames_out, viewers[0].frames_dropped = 30, 0
    viewers[1].frames_out, viewers[1].frames_dropped, viewers[1].keyframe_requests = 12, 18, 1
    totals = counters.totals()
    assert set(totals) == {"video", "audio"}
    assert (totals["video"].frames_in, totals["video"].keyframe_requests_sent) == (30, 2)
    assert (totals["video"].frames_out, totals["video"].frames_dropped) == (42, 18)
    assert totals["video"].keyframe_requests == 1
    assert (totals["audio"].frames_in, totals["audio"].bytes_in, totals["audio"].frames_out) == (
        50,
        4000,
        0,
    )


def test_a_closed_track_keeps_its_counts_once() -> None:
    counters = MediaCounters()
    relay, viewer = TrackInStats(), TrackOutStats()
    counters.track_in("video", relay)
    counters.track_out("video", viewer)
    relay.frames_in, viewer.frames_out = 10, 9
    counters.retire_out(viewer)
    counters.retire_out(viewer)  # a track stopped twice counts once
    assert counters.totals()["video"].frames_out == 9
    viewer.frames_out = 50  # after retirement: no longer read
    relay.frames_in = 25
    totals = counters.totals()
    assert (totals["video"].frames_in, totals["video"].frames_out) == (25, 9)
    counters.retire_in(relay)
    counters.retire_in(relay)
    second = TrackOutStats(frames_out=4)
    counters.track_out("video", second)
    totals = counters.totals()
    assert (totals["video"].frames_in, totals["video"].frames_out) == (25, 13)


def test_totals_are_copies() -> None:
    counters = MediaCounters()
    stats = TrackOutStats(frames_out=3)
    counters.track_out("audio", stats)
    counters.retire_out(stats)
    counters.totals()["audio"].frames_out += 100
    assert counters.totals()["audio"].frames_out == 3
