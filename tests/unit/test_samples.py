"""The sample clips (``scripts/make_samples.py``) read as a live product show: colour,
motion that loops without a jump, a keyframe every 2 s, and a sound in both channels
that differs between them; small enough for the wheel."""

from __future__ import annotations

import itertools
from array import array

import av
import pytest

from media.samples import sample_path

CODECS = ["vp8", "h264"]


def mean_abs_diff(a: bytes, b: bytes, step: int = 7) -> float:
    return sum(abs(x - y) for x, y in zip(a[::step], b[::step], strict=True)) / len(a[::step])


def luma(frame: av.VideoFrame) -> bytes:
    plane = frame.planes[0]
    raw = bytes(plane)
    return b"".join(
        raw[r * plane.line_size : r * plane.line_size + frame.width] for r in range(frame.height)
    )


@pytest.mark.parametrize("codec", CODECS)
def test_the_clip_has_colour_motion_and_loops_smoothly(codec: str) -> None:
    with av.open(str(sample_path(codec))) as container:
        frames = list(container.decode(video=0))
    assert (frames[0].width, frames[0].height) == (640, 360)
    assert len(frames) >= 90
    # Colour: the chroma planes are far from grey (128) over much of the picture.
    chroma = bytes(frames[0].planes[2])
    assert sum(abs(c - 128) > 20 for c in chroma) > len(chroma) // 3
    # Motion: consecutive frames differ; the last one leads back to the first like any step.
    steps = [mean_abs_diff(luma(a), luma(b)) for a, b in itertools.pairwise(frames)]
    assert min(steps) > 0.2
    wrap = mean_abs_diff(luma(frames[-1]), luma(frames[0]))
    assert wrap < 3 * max(steps)
    assert mean_abs_diff(luma(frames[0]), luma(frames[len(frames) // 2])) > 3 * wrap / 2


@pytest.mark.parametrize("codec", CODECS)
def test_keyframes_every_two_seconds_and_a_small_file(codec: str) -> None:
    path = sample_path(codec)
    assert path.stat().st_size < 200_000
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keys = [
            float(p.pts * p.time_base)
            for p in container.demux(stream)
            if p.size and p.is_keyframe and p.pts is not None
        ]
    assert keys[0] == 0.0
    assert all(abs(b - a - 2.0) < 0.05 for a, b in itertools.pairwise(keys))


def test_the_sound_is_in_both_channels_and_they_differ() -> None:
    left, right = array("f"), array("f")
    resampler = av.AudioResampler(format="flt", layout="stereo", rate=48_000)
    with av.open(str(sample_path("vp8"))) as container:
        for decoded in container.decode(audio=0):
            for frame in resampler.resample(decoded):
                data = array("f", bytes(frame.planes[0]))[: 2 * frame.samples]
                left.extend(data[0::2])
                right.extend(data[1::2])
    loud = [abs(s) for s in left]
    assert max(loud) > 0.1
    assert max(abs(s) for s in right) > 0.1
    assert sum(abs(a - b) for a, b in zip(left, right, strict=True)) / len(left) > 0.01
