"""Media fan-out benchmark: the pass-through relay against aiortc's MediaRelay, same run.

    python scripts/bench_media.py [--quick] [--profiles 360p,720p] [--seconds 5] [--profile-at N]
                                  [--parts cpu,first-frame] [--joins 10] [--pin]
                                  [--steps 5,40,120,200,300]

Runs a bench server (one process), a publisher (one process, a pre-encoded VP8 +
Opus clip looped without re-encoding, so it costs little) and N viewers spread
over several processes (viewers count frames through the same decoder-queue tap
the server uses, so they do not decode). For each server mode —

* ``passthrough``: this project's relay (media/), encoded frames forwarded, each
  frame's packets to a viewer in one segmented send (UDP GSO) where the kernel can;
* ``passthrough-no-gso``: the same with one ``sendto`` per packet (the baseline
  of the GSO change);
* ``passthrough-aiortc-sender``: the same relay with aiortc's own per-packet send loop;
* ``mediarelay``: aiortc's MediaRelay as its examples use it, the publisher's
  track decoded once and re-encoded for each viewer —

it steps N up, measures the server process's CPU (all threads) and each viewer's
received frame rate over a window, and reports the CPU per viewer (slope of CPU
against N), the largest N whose viewers all got ≥ 90 % of the frame rate while
the server used < 95 % of a core, and the ratio baseline/pass-through.
Everything shares this machine's cores: viewer processes compete with the
server, so "largest N" is a lower bound on what the server alone sustains.
``--pin`` keeps the server alone on CPU 0 and the publisher and viewers on the
other CPUs, as if the viewers ran on other machines; ``--steps`` sets the
pass-through's viewer counts (with ``--pin``, 300 viewers fit on the second
core of a 2-core machine).

Time to first frame (``first-frame``): a late joiner's wait, from its offer to
its first decoded video frame, when the publisher ignores keyframe requests
(the clip's keyframes come every 2 s, like OBS's). One viewer at a time joins
at random moments of the group of pictures, against the relay with its GOP
cache and against the same relay without it (the baseline: a joiner waits for
the next keyframe); it reports the medians and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FPS = 30
PROFILES = {"360p": (640, 360, 1_000_000), "720p": (1280, 720, 2_500_000)}
MODES = ("passthrough", "passthrough-no-gso", "passthrough-aiortc-sender", "mediarelay")
STEPS = {
    "passthrough": [5, 20, 40, 80, 120],
    "passthrough-no-gso": [5, 20, 40, 80, 120],
    "passthrough-aiortc-sender": [5, 20, 40, 80],
    "mediarelay": [1, 2, 4, 6],
}
QUICK_STEPS = {
    "passthrough": [5, 20, 40],
    "passthrough-no-gso": [5, 20, 40],
    "passthrough-aiortc-sender": [5, 20],
    "mediarelay": [1, 2, 3],
}
VIEWERS_PER_PROCESS = 25
# Share of each frame's rows that is noise: what brings the clip near its target bitrate.
NOISE_FRACTION = 24


# The clip: real bitrate needs real detail, so part of every frame is noise.


def make_clip(path: Path, width: int, height: int, bitrate: int, seconds: float = 4.0) -> None:
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("libvpx", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = bitrate
        video.gop_size = 2 * FPS
        video.options = {"deadline": "realtime", "cpu-used": "8", "minrate": str(bitrate),
                         "maxrate": str(bitrate), "b": str(bitrate)}  # fmt: skip
        audio = container.add_stream("libopus", rate=48000)
        audio.layout = "stereo"  # type: ignore[attr-defined]
        noise_rows = max(height // NOISE_FRACTION, 2)
        for i in range(int(seconds * FPS)):
            frame = av.VideoFrame(width, height, "yuv420p")
            luma = bytearray(bytes(range(256)) * (width * height // 256 + 1))[: width * height]
            start = (i * 7 % (height - noise_rows)) * width
            luma[start : start + noise_rows * width] = os.urandom(noise_rows * width)
            for plane, data in zip(
                frame.planes,
                (bytes(luma), b"\x80" * (width * height // 4), b"\x80" * (width * height // 4)),
                strict=True,
            ):
                plane.update(data)
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        for i in range(int(seconds * 50)):
            frame = av.AudioFrame(format="s16", layout="stereo", samples=960)
            frame.planes[0].update(os.urandom(960 * 4)[:16] + bytes(960 * 4 - 16))
            frame.sample_rate, frame.pts, frame.time_base = 48000, i * 960, Fraction(1, 48000)
            for packet in audio.encode(frame):  # type: ignore[attr-defined]
                container.mux(packet)
        for packet in audio.encode(None):  # type: ignore[attr-defined]
            container.mux(packet)


# Server


async def serve(mode: str, port: int, gop_cache_frames: int | None = None) -> None:
    from aiohttp import web
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRelay

    from media import udp_gso
    from media.hub import MediaHub
    from media.settings import RelaySettings

    udp_gso.set_enabled(mode == "passthrough")
    frame_sender = mode in ("passthrough", "passthrough-no-gso")
    settings = RelaySettings(video_queue_frames=300, frame_sender=frame_sender)
    if gop_cache_frames is not None:
        settings = dataclasses.replace(settings, gop_cache_frames=gop_cache_frames)
    hub = MediaHub(settings)
    relay = MediaRelay()
    published: dict[str, Any] = {}
    peers: dict[str, RTCPeerConnection] = {}

    async def publish(request: web.Request) -> web.Response:
        offer = await request.text()
        if mode.startswith("passthrough"):
            _, answer = await hub.publish("bench", "bench", offer)
            return web.Response(text=answer)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        peers["publisher"] = pc
        pc.on("track", lambda track: published.__setitem__(track.kind, track))
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return web.Response(text=pc.localDescription.sdp)

    async def play(request: web.Request) -> web.Response:
        offer = await request.text()
        if mode.startswith("passthrough"):
            session_id, answer = await hub.play("bench", offer)
            return web.Response(text=answer, headers={"Location": session_id})
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        for kind in ("video", "audio"):
            pc.addTrack(relay.subscribe(published[kind]))
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        session_id = str(len(peers))
        peers[session_id] = pc
        return web.Response(text=pc.localDescription.sdp, headers={"Location": session_id})

    async def cpu(request: web.Request) -> web.Response:
        return web.json_response({"cpu": time.process_time(), "wall": time.monotonic()})

    app = web.Application()
    app.router.add_post("/publish", publish)
    app.router.add_post("/play", play)
    app.router.add_get("/cpu", cpu)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# Publisher


async def publish_clip(server: str, clip: Path) -> None:
    import aiohttp
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from clients.anchor.filesource import FilePacketTrack, SharedClock
    from clients.anchor.whip import prefer_codec

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    clock = SharedClock()
    for kind in ("video", "audio"):
        pc.addTransceiver(FilePacketTrack(clip, kind, clock), direction="sendonly")
    prefer_codec(pc, "video", "video/VP8")
    await pc.setLocalDescription(await pc.createOffer())
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server}/publish", data=pc.localDescription.sdp) as reply,
    ):
        answer = await reply.text()
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    print("publishing", flush=True)
    await asyncio.Event().wait()


# Viewers


class FrameCounter:
    """Stands in for a viewer's SRTP session: counts video frames (RTP marker bit, which
    SRTP leaves in clear) and drops the packet, so load-generating viewers skip the
    decryption, jitter buffer and decoder a real player would spend its own CPU on."""

    def __init__(self, srtp: Any, frames: list[int], index: int, video_pt: int) -> None:
        self._srtp = srtp
        self._frames = frames
        self._index = index
        self._marked_video = 0x80 | video_pt

    def unprotect(self, data: bytes) -> bytes:
        import pylibsrtp

        if len(data) > 1 and data[1] == self._marked_video:
            self._frames[self._index] += 1
        raise pylibsrtp.Error("counted")

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return bytes(self._srtp.unprotect_rtcp(data))


async def view(play_url: str, count: int) -> None:
    """``count`` viewers that each POST an offer to ``play_url`` (retried while the
    stream is not there yet: 404/409) and count video frames until told to stop."""
    import aiohttp
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    frames = [0] * count
    peers: list[RTCPeerConnection] = []

    def on_state(pc: RTCPeerConnection, index: int) -> None:
        if pc.connectionState == "connected":
            video = next(t for t in pc.getTransceivers() if t.kind == "video")
            transport = video.receiver.transport
            pt = video._codecs[0].payloadType
            transport._rx_srtp = FrameCounter(transport._rx_srtp, frames, index, pt)

    async with aiohttp.ClientSession() as http:
        for index in range(count):
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")
            pc.on("connectionstatechange", lambda pc=pc, index=index: on_state(pc, index))
            await pc.setLocalDescription(await pc.createOffer())
            for _ in range(60):
                async with http.post(
                    play_url,
                    data=pc.localDescription.sdp,
                    headers={"Content-Type": "application/sdp"},
                ) as reply:
                    if reply.status < 300:
                        answer = await reply.text()
                        break
                await asyncio.sleep(0.5)  # not live yet
            else:
                raise RuntimeError(f"{play_url} never answered with an SDP answer")
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
            peers.append(pc)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "stop":
            break
        print(json.dumps({"frames": frames, "t": time.monotonic()}), flush=True)
    for pc in peers:
        await pc.close()


async def first_frame(http: aiohttp.ClientSession, play_url: str) -> float:
    """One late joiner: seconds from its offer to its first decoded video frame (``inf``
    when none came within 10 s)."""
    from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    first: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    readers: list[asyncio.Task[None]] = []

    async def read(track: MediaStreamTrack) -> None:
        await track.recv()  # decoded: the first picture a player can show
        if not first.done():
            first.set_result(time.monotonic())

    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video":
            readers.append(asyncio.ensure_future(read(track)))

    pc.on("track", on_track)
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    joined = time.monotonic()
    await pc.setLocalDescription(await pc.createOffer())
    async with http.post(
        play_url, data=pc.localDescription.sdp, headers={"Content-Type": "application/sdp"}
    ) as reply:
        answer = await reply.text()
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    try:
        return await asyncio.wait_for(first, 10) - joined
    except TimeoutError:
        return float("inf")
    finally:
        for reader in readers:
            reader.cancel()
        await pc.close()


async def first_frames(play_url: str, joins: int, seed: int) -> None:
    """Time ``joins`` late joiners, one at a time, joining at random moments of the clip's
    2-s group of pictures; print their seconds to first frame as one JSON line."""
    import aiohttp

    rng = random.Random(seed)
    seconds: list[float] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(joins):
            await asyncio.sleep(rng.uniform(0.2, 2.2))
            seconds.append(await first_frame(http, play_url))
    print(json.dumps({"seconds": seconds}), flush=True)


# The send path alone: system calls per viewer-frame


def send_path(
    viewers: int = 100, frames: int = 300, sizes: tuple[int, ...] = (1310,) * 3 + (420,)
) -> None:
    """CPU per viewer-frame of sending one 360p frame's packets (about 4 KB: three full
    packets and a short one) to ``viewers`` loopback sockets, with UDP GSO (one
    ``sendmsg`` per frame) and with one ``sendto`` per packet, in the same process."""
    import socket

    import uvloop

    from media import udp_gso

    async def run(gso: bool) -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        sinks = []
        for _ in range(viewers):  # receivers that never read: the kernel drops when full
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.bind(("127.0.0.1", 0))
            sinks.append(sink)
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        udp_gso.set_enabled(gso)
        datagrams = [os.urandom(size) for size in sizes]
        addresses = [sink.getsockname() for sink in sinks]
        calls = 0
        started = time.process_time()
        for _ in range(frames):
            for address in addresses:
                calls += udp_gso.send_batch(transport, datagrams, address)
            await asyncio.sleep(0)
        used = time.process_time() - started
        transport.close()
        for sink in sinks:
            sink.close()
        return used / (frames * viewers) * 1e6, calls // (frames * viewers)

    results = {gso: uvloop.run(run(gso)) for gso in (True, False, True, False)}
    gso_us, gso_calls = results[True]
    plain_us, plain_calls = results[False]
    print(f"send path, {len(sizes)} packets a frame, {viewers} viewers x {frames} frames:")
    print(f"  UDP GSO      {gso_us:6.2f} µs per viewer-frame, {gso_calls} system call(s)")
    print(f"  sendto each  {plain_us:6.2f} µs per viewer-frame, {plain_calls} system calls")
    print(f"  ratio: one sendto per packet costs {plain_us / gso_us:.2f}x")


# Orchestration


# --pin: the CPUs of the server and of everything else (publisher, viewers); empty: unpinned.
PINNED: dict[str, set[int]] = {}


def spawn(*args: str) -> subprocess.Popen[str]:
    cpus = PINNED.get("server" if args[0] == "server" else "load")
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
    )  # fmt: skip


def wait_line(process: subprocess.Popen[str], expected: str, timeout_s: float = 60) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() == expected:
            return
        if not line and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited before saying {expected!r}")
    raise RuntimeError(f"{process.args} did not say {expected!r}")


def server_cpu(url: str) -> tuple[float, float]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/cpu", timeout=10) as reply:
        data = json.loads(reply.read())
    return float(data["cpu"]), float(data["wall"])


def report(viewers: list[subprocess.Popen[str]]) -> list[tuple[int, float]]:
    """Each viewer's frame count with the time its process read it."""
    for process in viewers:
        assert process.stdin is not None
        process.stdin.write("report\n")
        process.stdin.flush()
    counts: list[tuple[int, float]] = []
    for process in viewers:
        assert process.stdout is not None
        data = json.loads(process.stdout.readline())
        counts.extend((frames, data["t"]) for frames in data["frames"])
    return counts


@dataclass
class Step:
    viewers: int
    cores: float
    min_fps: float
    median_fps: float

    @property
    def sustained(self) -> bool:
        # A median above the frame rate means a saturated viewer process caught up on a
        # backlog: the machine, not only the server, was overloaded.
        return self.min_fps >= 0.9 * FPS and self.median_fps <= 1.1 * FPS and self.cores < 0.95


def profile(pid: int, seconds: float, top: int = 12) -> None:
    """Sample the server with py-spy and print the functions where it spends its time."""
    import collections
    import re
    import shutil

    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("  (py-spy is not installed: pip install py-spy, or '.[bench]')")
        return
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        done = subprocess.run(
            [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200",
             "--format", "raw", "-o", out.name, "--nonblocking"],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"  (py-spy could not sample the server: {done.stderr.strip()[:200]})")
            return
        own: collections.Counter[str] = collections.Counter()
        for line in Path(out.name).read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frame = stack.split(";")[-1]
            match = re.match(r"(.*?) \((.*?):\d+\)", frame)
            name = f"{match.group(1)} ({Path(match.group(2)).name})" if match else frame
            own[name] += int(count)
    total = sum(own.values()) or 1
    print("  where the server's time goes (py-spy, own time):")
    for name, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {name}")


def measure(url: str, count: int, seconds: float, profile_pid: int | None = None) -> Step:
    viewers = []
    remaining = count
    while remaining:
        share = min(VIEWERS_PER_PROCESS, remaining)
        viewers.append(spawn("viewers", "--server", url, "--count", str(share)))
        remaining -= share
    try:
        for process in viewers:
            wait_line(process, "ready", 120)
        time.sleep(2.0)  # warm up: ICE, DTLS, first keyframes
        before = report(viewers)
        cpu0, wall0 = server_cpu(url)
        time.sleep(seconds)
        after = report(viewers)
        if profile_pid is not None:
            profile(profile_pid, seconds)
        cpu1, wall1 = server_cpu(url)
    finally:
        for process in viewers:
            assert process.stdin is not None
            process.stdin.write("stop\n")
            process.stdin.flush()
        for process in viewers:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    rates = [(b - a) / (tb - ta) for (a, ta), (b, tb) in zip(before, after, strict=True)]
    time.sleep(1.0)  # let the server close the sessions before the next step
    return Step(count, (cpu1 - cpu0) / (wall1 - wall0), min(rates), statistics.median(rates))


def slope(steps: list[Step]) -> float:
    """Least-squares CPU (cores) per added viewer."""
    xs, ys = [s.viewers for s in steps], [s.cores for s in steps]
    if len(xs) < 2:
        return ys[0] / xs[0]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def read_seconds(process: subprocess.Popen[str], timeout_s: float) -> list[float]:
    """The ``seconds`` of the JSON line a ``first-frames`` process prints."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("{"):
            return [float(x) for x in json.loads(line)["seconds"]]
        if not line and process.poll() is not None:
            break
    raise RuntimeError(f"{process.args!r} printed no result")


def time_to_first_frame(clip: Path, joins: int, port: int) -> dict[str, list[float]]:
    """Each join's time to first frame with the relay's GOP cache and without it."""
    from media.settings import RelaySettings

    found: dict[str, list[float]] = {}
    cases = {"GOP cache": RelaySettings().gop_cache_frames, "no GOP cache": 0}
    for i, (label, frames) in enumerate(cases.items()):
        url = f"http://127.0.0.1:{port + 10 * i}"
        server = spawn(
            "server", "--mode", "passthrough", "--port", str(port + 10 * i),
            "--gop-cache-frames", str(frames),
        )  # fmt: skip
        processes = [server]
        try:
            wait_line(server, "ready")
            publisher = spawn("publish", "--server", url, "--clip", str(clip))
            processes.append(publisher)
            wait_line(publisher, "publishing")
            time.sleep(2.0)
            viewer = spawn("first-frames", "--server", url, "--joins", str(joins), "--seed", "7")
            processes.append(viewer)
            found[label] = read_seconds(viewer, 20.0 * joins)
        finally:
            for process in reversed(processes):
                process.kill()
                process.wait()
    return found


def print_first_frames(found: dict[str, list[float]]) -> None:
    def describe(values: list[float]) -> str:
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        return f"median {statistics.median(ordered):.2f} s, p90 {p90:.2f} s"

    cached, baseline = found["GOP cache"], found["no GOP cache"]
    print(f"  time to first frame, {len(cached)} late joiners, publisher ignores PLI:")
    print(f"    GOP cache     {describe(cached)}")
    print(f"    no GOP cache  {describe(baseline)}  (the baseline: wait for the next keyframe)")
    ratio = statistics.median(baseline) / max(statistics.median(cached), 1e-6)
    print(f"  ratio: a late joiner waits {ratio:.1f}x longer without the GOP cache")


def run_mode(
    mode: str, clip: Path, steps: list[int], seconds: float, port: int, profile_at: int = 0
) -> list[Step]:
    url = f"http://127.0.0.1:{port}"
    server = spawn("server", "--mode", mode, "--port", str(port))
    publisher = None
    results: list[Step] = []
    try:
        wait_line(server, "ready")
        publisher = spawn("publish", "--server", url, "--clip", str(clip))
        wait_line(publisher, "publishing")
        time.sleep(2.0)
        for count in steps:
            step = measure(url, count, seconds, server.pid if count == profile_at else None)
            results.append(step)
            print(
                f"  {mode:12} N={count:4}  server {step.cores:5.2f} cores  "
                f"viewer fps min {step.min_fps:5.1f} median {step.median_fps:5.1f}"
                f"{'' if step.sustained else '  (not sustained)'}",
                flush=True,
            )
            if not step.sustained:
                break
    finally:
        for process in (publisher, server):
            if process is not None:
                process.kill()
                process.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="pass-through relay vs aiortc MediaRelay")
    sub = parser.add_subparsers(dest="command")
    server = sub.add_parser("server")
    server.add_argument("--mode", choices=MODES, required=True)
    server.add_argument("--port", type=int, required=True)
    server.add_argument("--gop-cache-frames", type=int, default=None)
    publisher = sub.add_parser("publish")
    publisher.add_argument("--server", required=True)
    publisher.add_argument("--clip", type=Path, required=True)
    viewers = sub.add_parser("viewers")
    viewers.add_argument("--server", required=True)
    viewers.add_argument("--count", type=int, required=True)
    first = sub.add_parser("first-frames")
    first.add_argument("--server", required=True)
    first.add_argument("--joins", type=int, required=True)
    first.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller steps")
    parser.add_argument("--profiles", default="360p,720p")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring window per step")
    parser.add_argument(
        "--profile-at", type=int, default=0, help="py-spy the pass-through server at this N"
    )
    parser.add_argument(
        "--parts",
        default="cpu,first-frame",
        help="cpu (fan-out CPU), first-frame (late joiners), send (the send path alone)",
    )
    parser.add_argument("--joins", type=int, default=0, help="late joiners timed (default 10)")
    parser.add_argument(
        "--modes", default=",".join(MODES), help="server modes measured (ratios need them all)"
    )
    parser.add_argument(
        "--steps", help="the pass-through's viewer counts, e.g. 40,120,200,300 (default 5–120)"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the server alone on CPU 0, the publisher and viewers on the others",
    )
    args = parser.parse_args()
    if args.command == "server":
        import uvloop  # as `livecommerce serve` runs

        uvloop.run(serve(args.mode, args.port, args.gop_cache_frames))
    elif args.command == "publish":
        asyncio.run(publish_clip(args.server, args.clip))
    elif args.command == "viewers":
        asyncio.run(view(f"{args.server}/play", args.count))
    elif args.command == "first-frames":
        asyncio.run(first_frames(f"{args.server}/play", args.joins, args.seed))
    else:
        steps = dict(QUICK_STEPS if args.quick else STEPS)
        if args.steps:
            steps["passthrough"] = [int(n) for n in args.steps.split(",")]
        if args.pin:
            PINNED.update(server={0}, load=set(range(1, os.cpu_count() or 2)) or {0})
            print(f"pinned: the server on CPU 0, the publisher and viewers on {PINNED['load']}")
        joins = args.joins or (5 if args.quick else 10)
        parts = set(args.parts.split(","))
        if "send" in parts:
            send_path()
        if parts - {"send"}:
            modes = tuple(m for m in MODES if m in args.modes.split(","))
            orchestrate(
                args.profiles.split(","), steps, args.seconds, args.profile_at, parts, joins, modes
            )


def orchestrate(
    profiles: list[str],
    steps: dict[str, list[int]],
    seconds: float,
    profile_at: int = 0,
    parts: frozenset[str] | set[str] = frozenset({"cpu", "first-frame"}),
    joins: int = 10,
    modes: tuple[str, ...] = MODES,
) -> None:
    print(f"bench_media: {os.cpu_count()} cores, {seconds:g} s per step")
    with tempfile.TemporaryDirectory() as tmp:
        for port, profile in enumerate(profiles, start=18700):
            width, height, bitrate = PROFILES[profile]
            clip = Path(tmp) / f"{profile}.webm"
            make_clip(clip, width, height, bitrate)
            real = clip.stat().st_size * 8 / 4.0
            print(f"{profile}: {width}x{height} {FPS} fps, clip {real / 1e6:.2f} Mbit/s")
            if "first-frame" in parts:
                print_first_frames(time_to_first_frame(clip, joins, port + 40))
            if "cpu" not in parts:
                continue
            found = {
                mode: run_mode(
                    mode,
                    clip,
                    steps[mode],
                    seconds,
                    port + 10 * i,
                    profile_at if mode == "passthrough" else 0,
                )
                for i, mode in enumerate(MODES)
                if mode in modes
            }
            per_viewer = {
                m: max(slope([x for x in s if x.sustained] or s), 1e-6) for m, s in found.items()
            }
            best = {m: max([s.viewers for s in found[m] if s.sustained], default=0) for m in found}
            for mode in found:
                print(
                    f"  {mode:12} {per_viewer[mode]:.4f} cores per viewer"
                    f" (~{1 / per_viewer[mode]:.0f} viewers per core);"
                    f" largest N sustained here: {best[mode]}"
                )
            if set(found) != set(MODES):
                continue
            ratio = per_viewer["mediarelay"] / per_viewer["passthrough"]
            gain = per_viewer["passthrough-aiortc-sender"] / per_viewer["passthrough"]
            gso = per_viewer["passthrough-no-gso"] / per_viewer["passthrough"]
            print(f"  UDP GSO: one sendto per packet uses {gso:.2f}x the CPU per viewer")
            print(f"  ratio: MediaRelay uses {ratio:.1f}x the CPU per viewer of the pass-through")
            print(f"  the per-frame sender saves {100 * (1 - 1 / gain):.0f}% over aiortc's loop")


if __name__ == "__main__":
    main()
