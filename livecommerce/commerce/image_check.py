"""What an uploaded file is, by its bytes: PNG, JPEG or WebP, whole, and nothing else.

:func:`inspect_image` walks the file's structure to its end (PNG chunks with
their CRCs up to ``IEND``; JPEG segments and entropy-coded data up to
``EOI``; WebP's RIFF chunks, whose sizes must add up to the file) and reads
the dimensions from the header the format defines. It refuses, with a
:class:`ImageError` whose message says why:

- a file whose first bytes are not one of the three signatures (the declared
  Content-Type is never trusted);
- a truncated or malformed structure, or bytes after the image's end (where
  a ZIP, PDF or script of a polyglot file hides);
- markup or archive signatures (``<script``, ``<html``, ``<svg``, ``<?php``,
  ``PK\\x03\\x04``, ``%PDF-``...) in the image's metadata: every part but the
  compressed pixels (PNG chunks other than ``IDAT``, JPEG segments other than
  the scans, WebP chunks other than the frame). An image needs none there, and
  a file that is also a page must never be served, even as an image. The
  pixels are not scanned: compressed data matches short patterns by chance.

Pure functions, no I/O: the whole file is in memory (its size was limited before).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_CHUNKS = 10_000
# Byte patterns of documents and archives that make a polyglot (matched case-insensitively).
FOREIGN = re.compile(
    rb"<script|<html|<svg|<\?php|<\?xml|<!doctype|<iframe|<body|<object|<embed"
    rb"|javascript:|PK\x03\x04|PK\x05\x06|%PDF-",
    re.IGNORECASE,
)
# JPEG start-of-frame markers (they carry the dimensions); C4, C8 and CC are not frames.
JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class ImageError(ValueError):
    """The file is not an image this server takes; the message says why."""


@dataclass(frozen=True)
class ImageInfo:
    kind: str  # "png", "jpeg" or "webp"
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return f"image/{self.kind}"

    @property
    def extension(self) -> str:
        return {"png": "png", "jpeg": "jpg", "webp": "webp"}[self.kind]


def inspect_image(data: bytes) -> ImageInfo:
    """The image's kind and dimensions; :class:`ImageError` for anything else."""
    metadata: list[tuple[int, int]] = []  # (start, end) of every part that is not pixels
    if data.startswith(PNG_SIGNATURE):
        info = _png(data, metadata)
    elif data.startswith(b"\xff\xd8\xff"):
        info = _jpeg(data, metadata)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        info = _webp(data, metadata)
    else:
        raise ImageError("the file is not a PNG, JPEG or WebP image")
    for start, end in metadata:
        foreign = FOREIGN.search(data, start, end)
        if foreign is not None:
            raise ImageError(
                f"the image contains {foreign.group().decode('latin-1')!r} at byte "
                f"{foreign.start()}: a file that is also a document or an archive is refused"
            )
    if info.width <= 0 or info.height <= 0:
        raise ImageError("the image has no pixels")
    return info


def _png(data: bytes, metadata: list[tuple[int, int]]) -> ImageInfo:
    at, width, height, chunks = len(PNG_SIGNATURE), 0, 0, 0
    while True:
        if at + 12 > len(data):
            raise ImageError("the PNG ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 12 + length
        if end > len(data):
            raise ImageError(f"the PNG chunk {kind!r} runs past the end of the file")
        if not kind.isalpha():
            raise ImageError(f"the PNG has a chunk with a bad type {kind!r}")
        body = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise ImageError(f"the PNG chunk {kind.decode()} fails its CRC")
        if chunks == 0:
            if kind != b"IHDR" or length != 13:
                raise ImageError("the PNG does not start with its IHDR header")
            width, height = struct.unpack(">II", body[:8])
        if kind != b"IDAT":
            metadata.append((at, end))
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise ImageError("the PNG has too many chunks")
        at = end
        if kind == b"IEND":
            break
    if at != len(data):
        raise ImageError(f"{len(data) - at} bytes follow the PNG's IEND chunk")
    return ImageInfo("png", width, height)


def _jpeg(data: bytes, metadata: list[tuple[int, int]]) -> ImageInfo:
    at, width, height = 2, 0, 0
    while True:
        if at + 2 > len(data) or data[at] != 0xFF:
            raise ImageError(f"the JPEG has no marker at byte {at}")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:  # end of image
            at += 2
            break
        if marker in JPEG_STANDALONE:
            at += 2
            continue
        if at + 4 > len(data):
            raise ImageError("the JPEG ends inside a segment header")
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        end = at + 2 + length
        if length < 2 or end > len(data):
            raise ImageError(f"the JPEG segment at byte {at} runs past the end of the file")
        if marker in JPEG_FRAMES:
            if length < 7:
                raise ImageError("the JPEG frame header is too short")
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
        metadata.append((at, end))
        at = end
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            at = _after_scan(data, at)
    if at != len(data):
        raise ImageError(f"{len(data) - at} bytes follow the JPEG's end marker")
    if not width:
        raise ImageError("the JPEG has no frame header")
    return ImageInfo("jpeg", width, height)


def _after_scan(data: bytes, at: int) -> int:
    """The offset of the first marker after entropy-coded data starting at ``at``."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            raise ImageError("the JPEG ends inside its image data")
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte, restart marker
            at += 2
            continue
        return at


def _webp(data: bytes, metadata: list[tuple[int, int]]) -> ImageInfo:
    (size,) = struct.unpack("<I", data[4:8])
    if size + 8 != len(data):
        raise ImageError(f"the WebP says it has {size + 8} bytes but the file has {len(data)}")
    at, dimensions = 12, None
    while at < len(data):
        if at + 8 > len(data):
            raise ImageError("the WebP ends inside a chunk header")
        kind = data[at : at + 4]
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        body = data[at + 8 : at + 8 + length]
        if len(body) != length:
            raise ImageError(f"the WebP chunk {kind!r} runs past the end of the file")
        if dimensions is None:
            dimensions = _webp_dimensions(kind, body)
        if kind not in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF"):
            metadata.append((at, at + 8 + length))
        at += 8 + length + (length & 1)
    if at != len(data):
        raise ImageError("the WebP's last chunk is not padded as the format says")
    if dimensions is None:
        raise ImageError("the WebP has no image chunk")
    return ImageInfo("webp", *dimensions)


def _webp_dimensions(kind: bytes, body: bytes) -> tuple[int, int] | None:
    if kind == b"VP8X" and len(body) >= 10:
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return width, height
    if kind == b"VP8 " and len(body) >= 10:
        if body[3:6] != b"\x9d\x01\x2a":
            raise ImageError("the WebP's VP8 frame has no start code")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and len(body) >= 5:
        if body[0] != 0x2F:
            raise ImageError("the WebP's lossless frame has no signature")
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind in (b"VP8X", b"VP8 ", b"VP8L"):
        raise ImageError(f"the WebP's {kind.decode()} chunk is too short")
    return None
