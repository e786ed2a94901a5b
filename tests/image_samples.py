"""Real PNG, JPEG and WebP files for the upload tests, encoded by FFmpeg (PyAV) at test time."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction

import av


def encode(codec: str, pixel_format: str, width: int = 64, height: int = 48) -> bytes:
    """One frame of a colour pattern encoded by ``codec`` (png, mjpeg or libwebp)."""
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = width, height, pixel_format
    context.time_base = Fraction(1, 25)
    frame = gradient(width, height).reformat(format=pixel_format)
    packets = [*context.encode(frame), *context.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def gradient(width: int, height: int) -> av.VideoFrame:
    """A tea-coloured gradient (something to see in a screenshot)."""
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    row = plane.line_size
    pixels = bytearray(row * height)
    for y in range(height):
        for x in range(width):
            at = y * row + x * 3
            pixels[at : at + 3] = bytes((150 + x * 100 // width, 90 + y * 80 // height, 40))
    plane.update(bytes(pixels))
    return frame


def png(width: int = 64, height: int = 48) -> bytes:
    return encode("png", "rgb24", width, height)


def jpeg(width: int = 64, height: int = 48) -> bytes:
    return encode("mjpeg", "yuvj420p", width, height)


def webp(width: int = 64, height: int = 48) -> bytes:
    return encode("libwebp", "yuv420p", width, height)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_chunk(image: bytes, kind: bytes, body: bytes) -> bytes:
    """``image`` (a PNG) with one more chunk just before IEND, its CRC right."""
    end = image.rindex(b"IEND") - 4
    return image[:end] + png_chunk(kind, body) + image[end:]
