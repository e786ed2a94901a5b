"""Recording and live HLS cost per room, beside the relay's cost for the same stream.

    python scripts/bench_recording.py [--seconds 20] [--profile 720p|360p]

One process runs a media hub, a real aiortc publisher (a clip encoded beforehand,
sent as packets, so publishing costs no encoding) and one real aiortc viewer that
counts frames through the decoder-queue tap (no decoding). Two phases of the same
stream, in the same run:

* ``relay``: the hub forwards the room (publisher → relay → viewer);
* ``relay+recording``: the same, with the room recorded (fMP4 segments, live HLS
  playlist) as the application does.

It reports the process's CPU (all threads, % of one core) in each phase, the
difference (what recording and HLS add per room), the recorder thread's own CPU,
their ratio to the relay phase, and the live HLS segment latency: how long after
a segment's first frame arrived the playlist listed it (what a player at the live
edge waits for, before its own buffer). Figures on a shared machine are provisional;
the ratios of one run are what to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402

from clients.anchor.testsrc import PatternVideoTrack  # noqa: E402
from media.aiortc_patches import install_tap  # noqa: E402
from media.disk import DiskBudget  # noqa: E402
from media.hub import MediaHub  # noqa: E402
from media.recorder import PackagerSettings, Recorder, RecordingResult  # noqa: E402
from media.relay import TrackRelay  # noqa: E402
from media.settings import RelaySettings  # noqa: E402

PROFILES = {"360p": (640, 360, 1_000_000), "720p": (1280, 720, 2_500_000)}
FPS = 30


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def encode_clip(width: int, height: int, bitrate: int, seconds: float) -> list[bytes]:
    """``seconds`` of the test pattern in H.264 (keyframe every 2 s), encoded now."""
    source = PatternVideoTrack(width, height)
    codec: Any = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = Fraction(1, 90_000)
    codec.framerate = Fraction(FPS, 1)
    codec.bit_rate = bitrate
    codec.options = {
        # a constant bitrate: the test pattern alone would compress to almost nothing
        "nal-hrd": "cbr",
        "minrate": str(bitrate),
        "maxrate": str(bitrate),
        "bufsize": str(bitrate),
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={2 * FPS}:min-keyint={2 * FPS}:repeat-headers=1",
    }
    codec.profile = "Baseline"
    frames: list[bytes] = []
    while len(frames) < seconds * FPS:
        frame = await source.recv()
        frames.extend(bytes(p) for p in codec.encode(frame))
    return frames


class ClipTrack(MediaStreamTrack):
    """The encoded clip at 30 fps in real time, looped, as packets."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self._frames = frames
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._n / FPS
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        packet = av.Packet(self._frames[self._n % len(self._frames)])
        packet.pts = self._n * (90_000 // FPS)
        packet.time_base = Fraction(1, 90_000)
        self._n += 1
        return packet


async def connect(hub: MediaHub, frames: list[bytes]) -> tuple[RTCPeerConnection, list[int]]:
    publisher = RTCPeerConnection()
    publisher.addTransceiver(ClipTrack(frames), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    _, answer = await hub.publish("room", "bench", publisher.localDescription.sdp)
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    viewer = RTCPeerConnection()
    viewer.addTransceiver("video", direction="recvonly")
    counted = [0]

    def count(_codec: Any, _data: bytes, _timestamp: int) -> None:
        counted[0] += 1

    def on_track(track: MediaStreamTrack) -> None:
        for transceiver in viewer.getTransceivers():
            if transceiver.receiver.track is track:
                install_tap(transceiver.receiver, count)

    viewer.on("track", on_track)
    await viewer.setLocalDescription(await viewer.createOffer())
    _, answer = await hub.play("room", viewer.localDescription.sdp)
    await viewer.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    publisher.__dict__["_bench_viewer"] = viewer
    return publisher, counted


async def phase(frames: list[bytes], seconds: float, record: Path | None) -> dict[str, Any]:
    recorders: list[Recorder] = []
    arrivals: dict[str, float] = {}

    def on_relays(key: str, publisher: str, relays: dict[str, TrackRelay]) -> None:
        if record is None:
            return
        recorder = Recorder(
            record,
            relays["video"].mime_type,
            with_audio="audio" in relays,
            settings=PackagerSettings(target_segment_s=2.0),
            budget=DiskBudget(0),
            # called on the event loop once the playlist lists the segment
            on_segment=lambda segment: arrivals.setdefault(segment.name, time.monotonic()),
        )
        for relay in relays.values():
            relay.add_consumer(recorder)
        recorders.append(recorder)

    hub = MediaHub(RelaySettings(prefer_video="video/h264"), on_relays=on_relays)
    publisher, counted = await connect(hub, frames)
    await asyncio.sleep(3.0)  # connected and steady
    before, started, frames_before = cpu_s(), time.monotonic(), counted[0]
    await asyncio.sleep(seconds)
    used = cpu_s() - before
    wall = time.monotonic() - started
    received = counted[0] - frames_before
    await publisher.close()
    await publisher.__dict__["_bench_viewer"].close()
    await hub.close()
    result: RecordingResult | None = None
    if recorders:
        result = await recorders[0].wait()
    return {
        "cpu_pct": 100 * used / wall,
        "fps": received / wall,
        "result": result,
        "arrivals": arrivals,
        "started_at": recorders[0].started_at if recorders else None,
    }


def latencies(run: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Per segment: when the playlist listed it, after its first frame and after its last
    frame arrived (media time mapped to arrival time by the recording's start)."""
    result: RecordingResult = run["result"]
    zero: float = run["started_at"]
    after_first: list[float] = []
    after_last: list[float] = []
    start = 0.0
    for segment in result.segments:
        listed = run["arrivals"].get(segment.name)
        if listed is not None:
            after_first.append(listed - (zero + start))
            after_last.append(listed - (zero + start + segment.duration_s))
        start += segment.duration_s
    return after_first, after_last


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="720p")
    options = parser.parse_args()
    width, height, bitrate = PROFILES[options.profile]
    print(f"encoding a {options.profile} H.264 clip ({width}x{height}, {bitrate // 1000} kb/s)…")
    frames = await encode_clip(width, height, bitrate, 10.0)
    rate = sum(len(f) for f in frames) * 8 / (len(frames) / FPS) / 1000
    print(f"clip: {len(frames)} frames, {rate:.0f} kb/s as encoded")
    with tempfile.TemporaryDirectory() as tmp:
        relay = await phase(frames, options.seconds, None)
        recorded = await phase(frames, options.seconds, Path(tmp) / "rec")
    result: RecordingResult = recorded["result"]
    added = recorded["cpu_pct"] - relay["cpu_pct"]
    thread_pct = 100 * result.cpu_s / (options.seconds + 3.0)
    after_first, after_last = latencies(recorded)
    print(
        f"relay (publisher + relay + 1 viewer, one process): {relay['cpu_pct']:.1f} % of a core,"
        f" viewer {relay['fps']:.1f} fps"
    )
    print(
        f"relay + recording + live HLS:                      {recorded['cpu_pct']:.1f} % of a core,"
        f" viewer {recorded['fps']:.1f} fps"
    )
    print(
        f"added by recording + HLS per room: {added:.1f} % of a core"
        f" ({added / relay['cpu_pct']:.2f}× the relay phase);"
        f" the writer thread alone: {thread_pct:.1f} % of a core"
    )
    if after_first:
        segment_s = statistics.median(s.duration_s for s in result.segments)
        print(
            f"live HLS ({segment_s:.1f} s segments): a segment is listed"
            f" {statistics.median(after_last):.2f} s after its last frame arrived and"
            f" {statistics.median(after_first):.2f} s after its first (medians);"
            " a player adds its hold-back behind the live edge (the pages' hls.js: 2.5 s)"
        )


if __name__ == "__main__":
    asyncio.run(main())
