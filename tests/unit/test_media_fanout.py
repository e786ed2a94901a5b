"""FanOut: one pass per loop tick over the viewers, whatever number of frames came in it."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from typing import cast

from media.fanout import FanOut, ViewerSink
from media.frames import EncodedFrame
from media.track import PacketTrack


class RecordingSink:
    """Stands in for a viewer's RTP state: records what the fan-out hands it."""

    def __init__(self, fail: bool = False) -> None:
        self.layout = b""
        self.calls: list[list[int]] = []
        self.fail = fail

    def extension(self, abs_send_time: int) -> bytes:
        return b""

    def send(self, frames: list[EncodedFrame], ntp: int, extension: bytes) -> None:
        if self.fail:
            raise ConnectionError("not connected")
        self.calls.append([frame.pts for frame in frames])


def frame(pts: int, keyframe: bool = False) -> EncodedFrame:
    return EncodedFrame.build(b"frame", pts, Fraction(1, 90000), keyframe, lambda p: (b"x",))


def attached(sink: RecordingSink) -> PacketTrack:
    track = PacketTrack("video", 10)
    track.attach(cast(ViewerSink, sink))
    return track


async def test_frames_of_one_tick_go_to_each_viewer_in_one_pass() -> None:
    sinks = [RecordingSink() for _ in range(3)]
    tracks = [attached(sink) for sink in sinks]
    fanout = FanOut(tracks)
    for pts in (0, 3000, 6000):
        for track in tracks:
            track.offer(frame(pts, keyframe=pts == 0))
        fanout.schedule()
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert [sink.calls for sink in sinks] == [[[0, 3000, 6000]]] * 3
    assert all(track.queued == 0 and track.stats.frames_out == 3 for track in tracks)


async def test_a_viewer_that_cannot_be_sent_to_is_stopped_and_the_others_go_on() -> None:
    broken, fine = RecordingSink(fail=True), RecordingSink()
    tracks = [attached(broken), attached(fine)]
    fanout = FanOut(tracks)
    for track in tracks:
        track.offer(frame(0, keyframe=True))
    fanout.flush()

    assert tracks[0].readyState == "ended"
    assert tracks[0].sink is None
    assert fine.calls == [[0]]
    await asyncio.wait_for(tracks[0].wait_ended(), 1)
