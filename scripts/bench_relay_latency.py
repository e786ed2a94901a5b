"""How much delay the relay adds, glass to glass, with a timestamp drawn into the video.

    python scripts/bench_relay_latency.py [--fps 15,30] [--seconds 10]

A publisher (in this process) encodes VP8 frames with aiortc, each frame
showing the time it was made as 24 black-or-white blocks (milliseconds
modulo 2^24). It sends the same picture two ways at once: straight to a
*direct* viewer (a peer-to-peer call, no relay) and through a relay server
(a child process, ``scripts/bench_media.py``'s bench server, the project's
pass-through relay) to a *relayed* viewer. Both viewers decode every frame,
read the blocks and take ``now - drawn`` as that frame's glass-to-glass
latency. What the relay adds is the relayed median minus the direct median,
measured at the same moments on the same machine.

Each frame rate runs twice, against two relay servers in turn:

* ``marker``: today's relay: a video frame is complete on its RTP marker bit
  (``media.aiortc_patches.MarkerJitterBuffer``);
* ``aiortc``: the baseline: aiortc's jitter buffer, which completes a frame
  only when the next frame's first packet arrives (the relay before #18).

Numbers on a busy shared machine are noisy: compare the two rows of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 320, 240
BITS = 24
COLUMNS, BLOCK = 8, 40  # 8 x 3 blocks of 40 x 40 pixels in the top rows
BLACK, WHITE = 16, 235


def draw(ms: int) -> Any:
    """A frame whose top blocks spell ``ms`` (modulo 2^24), most significant bit first."""
    import av

    luma = bytearray([128]) * (WIDTH * HEIGHT)
    for bit in range(BITS):
        row, column = divmod(bit, COLUMNS)
        shade = WHITE if (ms >> (BITS - 1 - bit)) & 1 else BLACK
        for y in range(row * BLOCK, (row + 1) * BLOCK):
            start = y * WIDTH + column * BLOCK
            luma[start : start + BLOCK] = bytes([shade]) * BLOCK
    frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
    chroma = b"\x80" * (WIDTH * HEIGHT // 4)
    for plane, data in zip(frame.planes, (bytes(luma), chroma, chroma), strict=True):
        plane.update(data)
    return frame


def read(frame: Any) -> int:
    """The milliseconds :func:`draw` drew into a decoded frame."""
    plane = frame.reformat(format="yuv420p").planes[0]
    luma, stride = bytes(plane), plane.line_size
    value = 0
    for bit in range(BITS):
        row, column = divmod(bit, COLUMNS)
        centre = luma[(row * BLOCK + BLOCK // 2) * stride + column * BLOCK + BLOCK // 2]
        value = (value << 1) | int(centre > 128)
    return value


def now_ms() -> int:
    return int(time.time() * 1000) % (1 << BITS)


class ClockTrack:
    """A video track whose frames show the moment they were made."""

    kind = "video"

    def __new__(cls, fps: int) -> Any:
        from aiortc import VideoStreamTrack

        class Track(VideoStreamTrack):
            async def recv(self) -> Any:
                await asyncio.sleep(0)
                pts = getattr(self, "_pts", 0)
                start = getattr(self, "_start", None)
                if start is None:
                    start = self._start = time.monotonic()
                wait = start + pts / fps - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._pts = pts + 1
                frame = draw(now_ms())
                frame.pts, frame.time_base = pts * 90000 // fps, Fraction(1, 90000)
                return frame

        return Track()


async def watch(track: Any, latencies: list[int], stop: asyncio.Event) -> None:
    from aiortc.mediastreams import MediaStreamError

    while not stop.is_set():
        try:
            frame = await track.recv()
        except MediaStreamError:
            return  # the call ended
        latency = (now_ms() - read(frame)) % (1 << BITS)
        if latency < 5000:  # a misread frame (a block half-decoded) is left out
            latencies.append(latency)


async def connect_direct(source: Any, latencies: list[int], stop: asyncio.Event) -> list[Any]:
    from aiortc import RTCConfiguration, RTCPeerConnection

    sender, receiver = (RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2))
    sender.addTrack(source)
    receiver.on("track", lambda track: asyncio.ensure_future(watch(track, latencies, stop)))
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return [sender, receiver]


async def connect_relay(
    server: str, source: Any, latencies: list[int], stop: asyncio.Event
) -> list[Any]:
    import aiohttp
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from clients.anchor.whip import prefer_codec

    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    publisher.addTransceiver(source, direction="sendonly")
    prefer_codec(publisher, "video", "video/VP8")
    await publisher.setLocalDescription(await publisher.createOffer())
    viewer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    viewer.addTransceiver("video", direction="recvonly")
    viewer.on("track", lambda track: asyncio.ensure_future(watch(track, latencies, stop)))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server}/publish", data=publisher.localDescription.sdp) as reply:
            answer = await reply.text()
        await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await viewer.setLocalDescription(await viewer.createOffer())
        for _ in range(60):
            async with http.post(f"{server}/play", data=viewer.localDescription.sdp) as reply:
                if reply.status < 300:
                    await viewer.setRemoteDescription(
                        RTCSessionDescription(await reply.text(), "answer")
                    )
                    break
            await asyncio.sleep(0.5)
    return [publisher, viewer]


async def measure(server: str, fps: int, seconds: float) -> tuple[float, float, int]:
    """Direct and relayed median latencies (ms) and the frames read, over ``seconds``."""
    from aiortc.contrib.media import MediaRelay

    source = ClockTrack(fps)
    split = MediaRelay()  # one picture, two encoders: direct and to the relay
    stop = asyncio.Event()
    direct: list[int] = []
    relayed: list[int] = []
    peers = await connect_direct(split.subscribe(source), direct, stop)
    peers += await connect_relay(server, split.subscribe(source), relayed, stop)
    await asyncio.sleep(3)  # connect, first keyframe, settle
    direct.clear()
    relayed.clear()
    await asyncio.sleep(seconds)
    stop.set()
    for pc in peers:
        await pc.close()
    if not direct or not relayed:
        raise RuntimeError(f"no frames read (direct {len(direct)}, relayed {len(relayed)})")
    return statistics.median(direct), statistics.median(relayed), len(relayed)


def serve(port: int, aiortc_buffer: bool) -> None:
    import bench_media
    import uvloop

    from media import aiortc_patches

    if aiortc_buffer:  # the baseline: leave aiortc's jitter buffer in place
        aiortc_patches.JITTER_BUFFER = "_no_such_attribute"  # type: ignore[misc]
    uvloop.run(bench_media.serve("passthrough", port))


def start_server(port: int, aiortc_buffer: bool) -> subprocess.Popen[str]:
    args = [sys.executable, __file__, "server", "--port", str(port)]
    if aiortc_buffer:
        args.append("--aiortc-buffer")
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the relay server did not start")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", nargs="?", default="run", choices=("run", "server"))
    parser.add_argument("--port", type=int, default=18900)
    parser.add_argument("--aiortc-buffer", action="store_true")
    parser.add_argument("--fps", default="15,30")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "scripts"))
    if args.command == "server":
        serve(args.port, args.aiortc_buffer)
        return
    print(f"bench_relay_latency: {WIDTH}x{HEIGHT} VP8, {args.seconds:g} s per run")
    print(f"{'fps':>4} {'relay':>8} {'direct ms':>10} {'relayed ms':>11} {'added ms':>9} frames")
    for fps in (int(f) for f in args.fps.split(",")):
        added = {}
        for n, (name, aiortc_buffer) in enumerate((("marker", False), ("aiortc", True))):
            port = args.port + 10 * fps + n
            server = start_server(port, aiortc_buffer)
            try:
                direct, relayed, frames = asyncio.run(
                    measure(f"http://127.0.0.1:{port}", fps, args.seconds)
                )
            finally:
                server.terminate()
                server.wait()
            added[name] = relayed - direct
            print(
                f"{fps:>4} {name:>8} {direct:>10.1f} {relayed:>11.1f} "
                f"{relayed - direct:>9.1f} {frames}"
            )
        print(
            f"{fps:>4} the marker bit saves {added['aiortc'] - added['marker']:.1f} ms "
            f"(a frame interval is {1000 / fps:.1f} ms)"
        )


if __name__ == "__main__":
    main()
