"""Live HLS glass to glass, with a timestamp drawn into the video, beside WebRTC.

    python scripts/bench_hls_latency.py [--seconds 30] [--fps 30] [--keyint-s 2]

One node (``livecommerce serve``, embedded store, recording on: it packages the live
HLS). A publisher in this process draws the time each frame is made into the picture
(``bench_relay_latency``'s 24 blocks, 320x240), encodes it with libx264 (a keyframe
every ``--keyint-s`` seconds, the segment length) and publishes it over WHIP. Three
viewers read the drawn time back and take ``now - drawn``:

* ``segment``: a poller that asks for the live playlist every 50 ms, as a player at the
  live edge would; for each new segment it decodes the first and the last frame. How
  long after its first frame was drawn a segment was listed is the least any HLS
  player can be behind (a player must wait for a whole segment); after the last
  frame is what packaging itself adds.
* ``hls.js``: the room page in headless Chromium with WebRTC switched off, so it
  falls back to live HLS (the vendored hls.js, as configured for the pages: 2.5 s
  behind the live edge). Every frame the browser presents is read from a canvas.
* ``webrtc``: the same page with WebRTC (WHEP), read the same way: the baseline.

Run it on a quiet machine: the three viewers, the encoder and the node share the
cores. Chromium needs the Debian ``chromium`` package and Playwright (the ``test``
extra).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import aiohttp  # noqa: E402
import av  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402
from bench_relay_latency import BITS, HEIGHT, WIDTH, draw, now_ms, read  # noqa: E402
from benchkit import LivecommerceNode  # noqa: E402

from clients.anchor.whip import prefer_codec  # noqa: E402

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
NO_WEBRTC = "delete window.RTCPeerConnection; window.RTCPeerConnection = undefined;"
POLL_S = 0.05
MISREAD_MS = 20_000  # a frame read wrong (a block mid-transition) is left out

# Reads the drawn time of every frame the page presents, for `seconds`: the latencies, and
# how often playback stalled meanwhile.
READ_FRAMES = f"""
async (seconds) => {{
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas');
  canvas.width = {WIDTH};
  canvas.height = {HEIGHT};
  const context = canvas.getContext('2d', {{ willReadFrequently: true }});
  const latencies = [];
  let stalls = 0;
  video.addEventListener('waiting', () => {{ stalls += 1; }});
  const end = performance.now() + seconds * 1000;
  await new Promise((resolve) => {{
    const frame = () => {{
      context.drawImage(video, 0, 0, {WIDTH}, {HEIGHT});
      const now = Date.now();
      const pixels = context.getImageData(0, 0, {WIDTH}, {HEIGHT}).data;
      let drawn = 0;
      for (let bit = 0; bit < {BITS}; bit++) {{
        const x = (bit % 8) * 40 + 20;
        const y = Math.floor(bit / 8) * 40 + 20;
        const i = (y * {WIDTH} + x) * 4;
        const luma = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
        drawn = drawn * 2 + (luma > 128 ? 1 : 0);
      }}
      latencies.push((((now % {1 << BITS}) - drawn) + {1 << BITS}) % {1 << BITS});
      if (performance.now() < end) video.requestVideoFrameCallback(frame);
      else resolve();
    }};
    video.requestVideoFrameCallback(frame);
  }});
  return {{ latencies, stalls }};
}}
"""


class ClockH264Track(MediaStreamTrack):
    """Video whose frames show the moment they were made, sent as H.264 packets encoded
    here (so the keyframe interval, hence the HLS segment length, is ours to set)."""

    kind = "video"

    def __init__(self, fps: int, keyint_s: float) -> None:
        super().__init__()
        self._fps = fps
        codec: Any = av.CodecContext.create("libx264", "w")
        codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        codec.time_base = Fraction(1, 90_000)
        codec.framerate = Fraction(fps, 1)
        codec.bit_rate = 500_000
        keyint = max(1, round(keyint_s * fps))
        codec.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:repeat-headers=1",
        }
        codec.profile = "Baseline"
        self._codec = codec
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> Any:
        if self._start is None:
            self._start = time.monotonic()
        while True:
            due = self._start + self._n / self._fps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            frame = draw(now_ms())
            frame.pts, frame.time_base = self._n * 90_000 // self._fps, Fraction(1, 90_000)
            self._n += 1
            packets = self._codec.encode(frame)
            if packets:
                packet = av.Packet(b"".join(bytes(p) for p in packets))
                packet.pts, packet.time_base = frame.pts, frame.time_base
                return packet


async def publish(
    http: aiohttp.ClientSession, url: str, room: str, token: str, track: ClockH264Track
) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver(track, direction="sendonly")
    prefer_codec(pc, "video", "video/H264")
    await pc.setLocalDescription(await pc.createOffer())
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}"}
    async with http.post(f"{url}/whip/{room}", data=pc.localDescription.sdp, headers=headers) as r:
        if r.status != 201:
            raise RuntimeError(f"WHIP answered {r.status}: {await r.text()}")
        answer = await r.text()
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    return pc


async def hls_url(http: aiohttp.ClientSession, url: str, room: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        async with http.get(f"{url}/api/rooms/{room}") as reply:
            found = (await reply.json()).get("hls_url")
        if found:
            return str(found) if str(found).startswith("http") else f"{url}{found}"
        await asyncio.sleep(0.2)
    raise RuntimeError("the room never had an hls_url (is recording on and the video H.264?)")


def drawn_times(init: bytes, segment: bytes) -> tuple[int, int] | None:
    """The drawn times of a segment's first and last frame."""
    stamps: list[int] = []
    with av.open(io.BytesIO(init + segment), format="mp4") as container:
        for frame in container.decode(video=0):
            stamps.append(read(frame))
    return (stamps[0], stamps[-1]) if stamps else None


async def poll_segments(
    http: aiohttp.ClientSession, playlist_url: str, headers: dict[str, str], stop: asyncio.Event
) -> tuple[list[int], list[int]]:
    """Per new segment, how long after its first and its last frame were drawn the
    playlist listed it (ms)."""
    base = playlist_url.rsplit("/", 1)[0]
    seen: set[str] = set()
    init = b""
    after_first: list[int] = []
    after_last: list[int] = []
    primed = False  # segments listed before the first look have no known listing time
    while not stop.is_set():
        async with http.get(playlist_url, headers=headers) as reply:
            text = await reply.text() if reply.status == 200 else ""
        listed_at = now_ms()
        for line in text.splitlines():
            if line.startswith("#EXT-X-MAP:") and not init:
                uri = line.split('URI="', 1)[1].split('"', 1)[0]
                async with http.get(f"{base}/{uri}", headers=headers) as reply:
                    init = await reply.read()
            elif line and not line.startswith("#") and line not in seen:
                seen.add(line)
                if not primed:
                    continue
                async with http.get(f"{base}/{line}", headers=headers) as reply:
                    body = await reply.read()
                stamps = drawn_times(init, body)
                if stamps is not None:
                    after_first.append((listed_at - stamps[0]) % (1 << BITS))
                    after_last.append((listed_at - stamps[1]) % (1 << BITS))
        primed = primed or bool(text)
        await asyncio.sleep(POLL_S)
    return after_first, after_last


async def browser_latencies(url: str, seconds: float, webrtc: bool) -> tuple[list[int], int]:
    """The glass-to-glass latencies (ms) of the frames the page presented, and its stalls."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(viewport={"width": 412, "height": 915})
            if not webrtc:
                await context.add_init_script(NO_WEBRTC)
            page = await context.new_page()
            await page.goto(url)
            ready = (
                "() => document.body.dataset.player === 'playing'"
                if webrtc
                else "() => document.body.dataset.hls === 'playing'"
            )
            await page.wait_for_function(ready, timeout=60_000)
            await asyncio.sleep(3.0)  # settled at its distance from the live edge
            found: dict[str, Any] = await page.evaluate(READ_FRAMES, seconds)
            return [ms for ms in found["latencies"] if ms < MISREAD_MS], int(found["stalls"])
        finally:
            await browser.close()


def summary(name: str, values: list[int]) -> str:
    if not values:
        return f"{name:<28} no frames read"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"{name:<28} median {statistics.median(ordered) / 1000:5.2f} s"
        f"  p95 {p95 / 1000:5.2f} s  min {ordered[0] / 1000:5.2f} s"
        f"  max {ordered[-1] / 1000:5.2f} s  ({len(ordered)} samples)"
    )


async def run(node: LivecommerceNode, options: argparse.Namespace) -> None:
    anchor = node.token("anchor", "bench-anchor")
    viewer = node.token("viewer", "bench-viewer")
    room = node.api("POST", "/api/rooms", anchor, {"title": "HLS latency bench"})["id"]
    track = ClockH264Track(options.fps, options.keyint_s)
    async with aiohttp.ClientSession() as http:
        publisher = await publish(http, node.url, room, anchor, track)
        try:
            playlist = await hls_url(http, node.url, room)
            print(f"publishing; live HLS at {playlist}")
            stop = asyncio.Event()
            headers = {"Authorization": f"Bearer {viewer}"}
            poller = asyncio.create_task(poll_segments(http, playlist, headers, stop))
            page_url = f"{node.url}/rooms/{room}#token={viewer}"
            hls, hls_stalls = await browser_latencies(page_url, options.seconds, webrtc=False)
            stop.set()
            after_first, after_last = await poller
            webrtc, webrtc_stalls = await browser_latencies(page_url, options.seconds, webrtc=True)
        finally:
            await publisher.close()
    print(
        f"{options.fps} fps, a keyframe every {options.keyint_s:g} s"
        f" ({options.seconds:g} s read per browser viewer)"
    )
    print(summary("segment listed, first frame", after_first))
    print(summary("segment listed, last frame", after_last))
    print(summary("hls.js in Chromium", hls) + f", {hls_stalls} stalls")
    print(summary("WebRTC in Chromium", webrtc) + f", {webrtc_stalls} stalls")
    if hls and webrtc:
        ratio = statistics.median(hls) / statistics.median(webrtc)
        print(f"ratio hls.js / WebRTC glass to glass (medians): {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0, help="frames read per viewer")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--keyint-s", type=float, default=2.0, help="keyframe interval")
    options = parser.parse_args()
    node = LivecommerceNode()
    try:
        asyncio.run(run(node, options))
    finally:
        node.stop()


if __name__ == "__main__":
    main()
