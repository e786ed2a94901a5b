"""Wire formats of the room channel: msgpack (binary frames) and JSON (text frames).

Server → client frames are encoded once per format and turned into complete
WebSocket frames once (:class:`OutgoingFrame`), so a broadcast to thousands of
sockets costs one encoding and one ``transport.write`` per socket. Frames are
never compressed (the channel negotiates no permessage-deflate).
"""

from __future__ import annotations

import json
import struct
from enum import StrEnum
from typing import Any

import msgpack

OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
FIN = 0x80


class WireFormat(StrEnum):
    msgpack = "msgpack"
    json = "json"


class ProtocolError(ValueError):
    """A client frame that cannot be understood; the message says exactly why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def websocket_frame(payload: bytes, opcode: int) -> bytes:
    """A complete, unmasked, final server frame (RFC 6455 §5.2)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", FIN | opcode, length)
    elif length < 65536:
        header = struct.pack("!BBH", FIN | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", FIN | opcode, 127, length)
    return header + payload


def encode_payload(message: dict[str, Any], wire: WireFormat) -> bytes:
    if wire is WireFormat.msgpack:
        return msgpack.packb(message, use_bin_type=True)  # type: ignore[no-any-return]
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


class OutgoingFrame:
    """One server message, encoded lazily at most once per wire format."""

    __slots__ = ("_frames", "message")

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message
        self._frames: dict[WireFormat, bytes] = {}

    def frame(self, wire: WireFormat) -> bytes:
        """The ready-to-write WebSocket frame for ``wire``."""
        cached = self._frames.get(wire)
        if cached is None:
            opcode = OPCODE_BINARY if wire is WireFormat.msgpack else OPCODE_TEXT
            cached = websocket_frame(encode_payload(self.message, wire), opcode)
            self._frames[wire] = cached
        return cached


class FrameBatch:
    """Frames for the same sessions, written as one buffer per wire format."""

    __slots__ = ("_joined", "frames")

    def __init__(self, frames: list[OutgoingFrame]) -> None:
        self.frames = frames
        self._joined: dict[WireFormat, bytes] = {}

    def joined(self, wire: WireFormat) -> bytes:
        cached = self._joined.get(wire)
        if cached is None:
            cached = b"".join(frame.frame(wire) for frame in self.frames)
            self._joined[wire] = cached
        return cached


def decode_client_frame(data: bytes | str, wire: WireFormat) -> dict[str, Any]:
    """A client frame as a map with a string ``type``; :class:`ProtocolError` otherwise."""
    if wire is WireFormat.msgpack:
        if not isinstance(data, bytes):
            raise ProtocolError("bad_frame", "This connection speaks msgpack: send binary frames.")
        try:
            value = msgpack.unpackb(data, raw=False, strict_map_key=True)
        except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
            raise ProtocolError("bad_frame", f"The frame is not valid msgpack: {exc}.") from None
    else:
        if not isinstance(data, str):
            raise ProtocolError("bad_frame", "This connection speaks JSON: send text frames.")
        try:
            value = json.loads(data)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ProtocolError("bad_frame", f"The frame is not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise ProtocolError("bad_frame", "A frame must be a map with a 'type'.")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_frame", "A frame must have a string 'type'.")
    return value
