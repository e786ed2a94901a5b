"""Generate the sample clips in media/samples/ (used by tests, the demo and the anchor client).

    python scripts/make_samples.py [--seconds 4] [--out media/samples] [--poster FILE.png]

Draws a small live product show, 640x360 at 30 fps with a keyframe every 2 s, like OBS:
a tea tin turning on a turntable in a coloured studio, a blinking LIVE badge, sparkles
and a flash-sale ticker crossing the lower third, over a soft major-key arpeggio in
stereo (notes panned left and right). Every motion repeats exactly once per clip, so the
clip loops without a jump (the anchor client and the demo loop it). Two files:

* ``sample-vp8.webm``: VP8 ~250 kbit/s + Opus stereo;
* ``sample-h264.mp4``: H.264 constrained baseline ~250 kbit/s + Opus stereo.

Only PyAV is needed (it bundles libvpx, libx264 and libopus); the pictures are drawn
straight into YUV planes, the sound into 16-bit samples. The output is deterministic.
``--poster`` also writes the middle frame as a PNG, to look at.
"""

from __future__ import annotations

import argparse
import math
import struct
import zlib
from array import array
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

FPS = 30
GOP = 2 * FPS
WIDTH, HEIGHT = 640, 360
AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms, an Opus frame
VIDEO_BITS = 250_000
AUDIO_BITS = 48_000

Colour = tuple[int, int, int]

# 5x7 glyphs of the few characters the ticker and badge use.
GLYPHS = {
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "F": ["11111", "10000", "10000", "11110", "10000", "10000", "10000"],
    "G": ["01110", "10001", "10000", "10111", "10001", "10001", "01111"],
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "I": ["11111", "00100", "00100", "00100", "00100", "00100", "11111"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "T": ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
    "V": ["10001", "10001", "10001", "10001", "10001", "01010", "00100"],
    "W": ["10001", "10001", "10001", "10101", "10101", "11011", "10001"],
    "0": ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    "4": ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    "9": ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
    "$": ["00100", "01111", "10100", "01110", "00101", "11110", "00100"],
    ".": ["00000", "00000", "00000", "00000", "00000", "01100", "01100"],
    "-": ["00000", "00000", "00000", "11111", "00000", "00000", "00000"],
    "%": ["11001", "11010", "00010", "00100", "01000", "01011", "10011"],
    " ": ["00000"] * 7,
}
TICKER = "FLASH SALE  -40%  OOLONG TIN $9.90  NOW LIVE"


def yuv(rgb: Colour) -> Colour:
    """BT.601 limited range, as the encoders expect for yuv420p."""
    r, g, b = rgb
    y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256
    u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256
    v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256
    return round(y), round(u), round(v)


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


class Canvas:
    """A yuv420p picture drawn with horizontal spans (chroma at half resolution)."""

    def __init__(self, planes: tuple[bytearray, bytearray, bytearray] | None = None) -> None:
        self.cw, self.ch = WIDTH // 2, HEIGHT // 2
        if planes is None:
            planes = (
                bytearray(WIDTH * HEIGHT),
                bytearray(self.cw * self.ch),
                bytearray(self.cw * self.ch),
            )
        self.y, self.u, self.v = planes

    def copy(self) -> Canvas:
        return Canvas((bytearray(self.y), bytearray(self.u), bytearray(self.v)))

    def span(self, row: int, x0: int, x1: int, colour: Colour) -> None:
        """Pixels ``x0..x1-1`` of ``row`` (clipped), luma and the chroma under them."""
        if not 0 <= row < HEIGHT:
            return
        x0, x1 = max(x0, 0), min(x1, WIDTH)
        if x1 <= x0:
            return
        y, u, v = yuv(colour)
        start = row * WIDTH
        self.y[start + x0 : start + x1] = bytes([y]) * (x1 - x0)
        if row % 2 == 0:
            c0, c1 = x0 // 2, (x1 + 1) // 2
            crow = (row // 2) * self.cw
            self.u[crow + c0 : crow + c1] = bytes([u]) * (c1 - c0)
            self.v[crow + c0 : crow + c1] = bytes([v]) * (c1 - c0)

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        for row in range(y0, y1):
            self.span(row, x0, x1, colour)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, colour: Colour) -> None:
        for row in range(math.floor(cy - ry), math.ceil(cy + ry) + 1):
            d = (row + 0.5 - cy) / ry
            if abs(d) <= 1:
                half = rx * math.sqrt(1 - d * d)
                self.span(row, round(cx - half), round(cx + half), colour)

    def rounded(self, x0: int, y0: int, x1: int, y1: int, r: int, colour: Colour) -> None:
        for row in range(y0, y1):
            inset = 0.0
            if row < y0 + r or row >= y1 - r:
                dy = (y0 + r - row - 0.5) if row < y0 + r else (row + 0.5 - (y1 - r))
                inset = r - math.sqrt(max(r * r - dy * dy, 0))
            self.span(row, round(x0 + inset), round(x1 - inset), colour)

    def text(self, x: int, y: int, words: str, scale: int, colour: Colour) -> None:
        for i, char in enumerate(words):
            glyph = GLYPHS[char]
            for gy, line in enumerate(glyph):
                for gx, bit in enumerate(line):
                    if bit == "1":
                        left = x + (i * 6 + gx) * scale
                        self.rect(left, y + gy * scale, left + scale, y + (gy + 1) * scale, colour)


def studio() -> Canvas:
    """What does not move: the backdrop, the light on it, the counter and the turntable."""
    canvas = Canvas()
    top, bottom = (38, 22, 84), (150, 52, 110)
    for row in range(HEIGHT):
        canvas.span(row, 0, WIDTH, mix(top, bottom, row / HEIGHT))
    canvas.ellipse(320, 150, 230, 120, (170, 80, 140))
    canvas.ellipse(320, 150, 160, 90, (196, 110, 160))
    canvas.rect(0, 262, WIDTH, HEIGHT, (120, 78, 48))
    canvas.rect(0, 262, WIDTH, 268, (160, 110, 70))
    canvas.ellipse(320, 272, 150, 22, (70, 70, 80))
    canvas.ellipse(320, 268, 146, 19, (205, 205, 215))
    return canvas


def draw(base: Canvas, phase: float) -> Canvas:
    """The picture at ``phase`` (0..1 over the clip; 1 looks like 0)."""
    canvas = base.copy()
    turn = 2 * math.pi * phase
    bob = round(4 * math.sin(2 * turn))
    # The tin: body, lid, a label whose stripes slide around as it turns, a highlight.
    left, right, top, foot = 250, 390, 118 + bob, 268
    canvas.rect(left, top, right, foot, (196, 36, 48))
    canvas.ellipse(320, foot, 70, 10, (150, 24, 36))
    canvas.rect(left + 8, top - 22, right - 8, top + 6, (40, 40, 48))
    canvas.ellipse(320, top - 22, 62, 9, (70, 70, 80))
    label_top, label_bottom = top + 52, top + 104
    canvas.rect(left, label_top, right, label_bottom, (246, 236, 210))
    width = right - left
    for k in range(4):
        x = left + ((k * width / 4 + phase * width) % width)
        # Squeezed towards the edges, as on a cylinder seen from the front.
        edge = abs((x - 320) / (width / 2))
        stripe = max(2, round(14 * (1 - 0.7 * edge)))
        canvas.rect(round(x), label_top + 8, round(x) + stripe, label_bottom - 8, (30, 120, 90))
    canvas.rect(left + 14, top + 4, left + 24, foot - 6, (232, 96, 104))
    # Sparkles circling the tin.
    for k in range(5):
        angle = turn + k * 2 * math.pi / 5
        sx = round(320 + 190 * math.cos(angle))
        sy = round(170 + 70 * math.sin(angle))
        size = 3 + round(3 * (1 + math.sin(3 * angle)) / 2)
        canvas.rect(sx - size, sy - 1, sx + size + 1, sy + 2, (255, 244, 200))
        canvas.rect(sx - 1, sy - size, sx + 2, sy + size + 1, (255, 244, 200))
    # The LIVE badge; its dot blinks twice a clip.
    canvas.rounded(16, 16, 132, 52, 8, (222, 30, 50))
    if math.sin(4 * turn) > -0.3:
        canvas.ellipse(34, 34, 7, 7, (255, 255, 255))
    canvas.text(50, 23, "LIVE", 3, (255, 255, 255))
    # The ticker crosses the lower third once per clip, entering right as it leaves left.
    canvas.rect(0, 300, WIDTH, 340, (252, 204, 40))
    text_width = len(TICKER) * 6 * 3
    x = round(WIDTH - phase * (WIDTH + text_width))
    canvas.text(x, 310, TICKER, 3, (40, 20, 60))
    return canvas


def video_frames(seconds: float) -> Iterator[av.VideoFrame]:
    base = studio()
    count = round(seconds * FPS)
    for i in range(count):
        picture = draw(base, i / count)
        frame = av.VideoFrame(width=WIDTH, height=HEIGHT, format="yuv420p")
        for plane, data, width in zip(
            frame.planes,
            (picture.y, picture.u, picture.v),
            (WIDTH, WIDTH // 2, WIDTH // 2),
            strict=True,
        ):
            rows = len(data) // width
            if plane.line_size != width:
                pad = bytes(plane.line_size - width)
                data = bytearray(
                    b"".join(data[r * width : (r + 1) * width] + pad for r in range(rows))
                )
            plane.update(bytes(data))
        frame.pts, frame.time_base = i, Fraction(1, FPS)
        yield frame


# C major: C5 E5 G5 C6 G5 E5, over and over; one note per 1/4 s, panned in turn.
NOTES = (523.25, 659.25, 783.99, 1046.5, 783.99, 659.25)


def audio_samples(seconds: float) -> array[int]:
    """Interleaved stereo 16-bit samples; notes start on the clip's grid, so it loops."""
    total = round(seconds * AUDIO_RATE)
    per_note = AUDIO_RATE // 4
    out = array("h", bytes(4 * total))
    for n in range(total // per_note):
        freq = NOTES[n % len(NOTES)]
        pan = 0.25 if n % 2 == 0 else 0.75  # share of the right channel
        for i in range(per_note):
            t = i / AUDIO_RATE
            envelope = min(1.0, t * 200) * math.exp(-6 * t)
            value = envelope * (
                math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            )
            index = 2 * (n * per_note + i)
            out[index] = round(9000 * value * (1 - pan))
            out[index + 1] = round(9000 * value * pan)
    return out


def audio_frames(seconds: float) -> Iterator[av.AudioFrame]:
    samples = audio_samples(seconds)
    step = 2 * AUDIO_SAMPLES
    for n, start in enumerate(range(0, len(samples), step)):
        chunk = samples[start : start + step]
        if len(chunk) < step:
            break
        frame = av.AudioFrame(format="s16", layout="stereo", samples=AUDIO_SAMPLES)
        frame.planes[0].update(chunk.tobytes())
        frame.sample_rate = AUDIO_RATE
        frame.pts, frame.time_base = n * AUDIO_SAMPLES, Fraction(1, AUDIO_RATE)
        yield frame


def write(path: Path, codec: str, options: dict[str, str], seconds: float) -> None:
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.bit_rate = VIDEO_BITS
        video.gop_size = GOP
        video.options = options
        audio = container.add_stream("libopus", rate=AUDIO_RATE)
        audio.layout = "stereo"  # type: ignore[attr-defined]
        audio.bit_rate = AUDIO_BITS
        for frame in video_frames(seconds):
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        for sound in audio_frames(seconds):
            for packet in audio.encode(sound):  # type: ignore[attr-defined]
                container.mux(packet)
        for packet in audio.encode(None):  # type: ignore[attr-defined]
            container.mux(packet)
    print(f"wrote {path} ({path.stat().st_size // 1024} kB)")


def write_poster(path: Path, seconds: float) -> None:
    """The middle frame as an RGB PNG (zlib only)."""
    frames = list(video_frames(seconds))
    rgb = frames[len(frames) // 2].reformat(format="rgb24")
    plane = rgb.planes[0]
    raw = bytes(plane)
    rows = b"".join(
        b"\x00" + raw[r * plane.line_size : r * plane.line_size + 3 * WIDTH] for r in range(HEIGHT)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
    path.write_bytes(png + chunk(b"IEND", b""))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--out", type=Path, default=Path("media/samples"))
    parser.add_argument("--poster", type=Path, help="also write the middle frame as a PNG")
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
    if args.poster:
        write_poster(args.poster, args.seconds)


if __name__ == "__main__":
    main()
