"""Generate the sample clips in media/samples/ (used by tests and the anchor client).

    python scripts/make_samples.py [--seconds 3] [--out media/samples]

Writes two small clips of the synthetic test source (a bar moving over a gradient,
a 440/660 Hz stereo tone), 640x360 at 30 fps with a keyframe every 2 s, like OBS:

* ``sample-vp8.webm``: VP8 ~400 kbit/s + Opus stereo;
* ``sample-h264.mp4``: H.264 constrained baseline ~400 kbit/s + Opus stereo.

Only PyAV is needed (it bundles libvpx, libx264 and libopus). The output is
deterministic enough for tests; re-run it after changing the source.
"""

from __future__ import annotations

import argparse
import asyncio
from fractions import Fraction
from pathlib import Path

import av

from clients.anchor.testsrc import PatternVideoTrack, ToneAudioTrack

FPS = 30
GOP = 2 * FPS
WIDTH, HEIGHT = 640, 360


async def frames(seconds: float) -> tuple[list[av.VideoFrame], list[av.AudioFrame]]:
    video, audio = PatternVideoTrack(WIDTH, HEIGHT), ToneAudioTrack()
    # Skip the real-time pacing of the tracks: we only want their pictures and samples.
    video_frames, audio_frames = [], []
    for i in range(int(seconds * FPS)):
        video._timestamp = i * 3000  # type: ignore[attr-defined]
        video._start = -1e12  # type: ignore[attr-defined]
        frame = await video.recv()
        frame.pts, frame.time_base = i, Fraction(1, FPS)
        video_frames.append(frame)
    for _ in range(int(seconds * 50)):
        audio._start = -1e12  # type: ignore[attr-defined]
        audio_frames.append(await audio.recv())
    return video_frames, audio_frames


def write(path: Path, codec: str, options: dict[str, str], seconds: float) -> None:
    video_frames, audio_frames = asyncio.run(frames(seconds))
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.bit_rate = 400_000
        video.gop_size = GOP
        video.options = options
        audio = container.add_stream("libopus", rate=48000)
        audio.layout = "stereo"  # type: ignore[attr-defined]
        audio.bit_rate = 64_000
        for frame in video_frames:
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        for frame in audio_frames:
            for packet in audio.encode(frame):  # type: ignore[attr-defined]
                container.mux(packet)
        for packet in audio.encode(None):  # type: ignore[attr-defined]
            container.mux(packet)
    print(f"wrote {path} ({path.stat().st_size // 1024} kB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=Path("media/samples"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write(
        args.out / "sample-vp8.webm", "libvpx", {"deadline": "good", "cpu-used": "4"}, args.seconds
    )
    write(
        args.out / "sample-h264.mp4",
        "libx264",
        {"profile": "baseline", "preset": "veryfast", "keyint_min": str(GOP), "sc_threshold": "0"},
        args.seconds,
    )


if __name__ == "__main__":
    main()
