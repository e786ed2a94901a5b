"""Top-level ISO BMFF boxes out of a muxer's byte stream, and a fragment's start time.

FFmpeg's mp4 muxer (``frag_keyframe+empty_moov+default_base_moof``) writes
``ftyp`` + ``moov`` first (the init segment), then one ``moof`` + ``mdat`` per
group of pictures. The muxer cannot write each fragment to a file of its own,
so :class:`BoxSplitter` cuts its output at box boundaries; only the ``tfdt``
(the fragment's decode time) is read, to time the segments exactly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    kind: bytes
    data: bytes


class BoxSplitter:
    """Feed it bytes in any chunks; it gives back each complete top-level box once."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Box]:
        self._buffer += chunk
        boxes: list[Box] = []
        while True:
            size, header = _box_size(self._buffer)
            if size is None or len(self._buffer) < size:
                return boxes
            if size < header:
                raise ValueError("box size smaller than its header")
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            boxes.append(Box(data[4:8], data))


def _box_size(buffer: bytearray) -> tuple[int | None, int]:
    if len(buffer) < 8:
        return None, 8
    size = int.from_bytes(buffer[0:4], "big")
    if size == 1:
        if len(buffer) < 16:
            return None, 16
        return int.from_bytes(buffer[8:16], "big"), 16
    if size == 0:
        return None, 8  # "to the end of the file": only mdat at the end, never here
    return size, 8


def children(data: bytes, start: int = 8) -> list[Box]:
    """The boxes directly inside a box's payload (from ``start``)."""
    boxes: list[Box] = []
    at = start
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        header = 8
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
            header = 16
        if size < header or at + size > len(data):
            raise ValueError("box overruns its parent")
        boxes.append(Box(data[at + 4 : at + 8], data[at : at + size]))
        at += size
    return boxes


def fragment_start(moof: bytes, track_id: int) -> int | None:
    """The ``baseMediaDecodeTime`` of ``track_id`` in a ``moof``; None when absent."""
    for traf in children(moof):
        if traf.kind != b"traf":
            continue
        inner = children(traf.data)
        tfhd = next((b for b in inner if b.kind == b"tfhd"), None)
        tfdt = next((b for b in inner if b.kind == b"tfdt"), None)
        if tfhd is None or tfdt is None:
            continue
        if int.from_bytes(tfhd.data[12:16], "big") != track_id:
            continue
        version = tfdt.data[8]
        if version == 1:
            return int.from_bytes(tfdt.data[12:20], "big")
        return int.from_bytes(tfdt.data[12:16], "big")
    return None
