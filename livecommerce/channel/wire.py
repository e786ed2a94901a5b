"""Wire formats of the room channel: msgpack (binary frames) and JSON (text frames).

Server → client frames are encoded once per format and turned into complete
WebSocket frames once (:class:`OutgoingFrame`), so a broadcast to thousands of
sockets costs one encoding and one ``transport.write`` per socket. Frames are
never compressed (the channel negotiates no permessage-deflate).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from enum import StrEnum

import msgpack

OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
FIN = 0x80
# Lone surrogates: a JSON ``\\ud800`` escape decodes to one, and it cannot be encoded as UTF-8.
SURROGATE = re.compile("[\ud800-\udfff]")


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


def encode_payload(message: Mapping[str, object], wire: WireFormat) -> bytes:
    if wire is WireFormat.msgpack:
        packed: bytes = msgpack.packb(message, use_bin_type=True)
        return packed
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


class OutgoingFrame:
    """One server message, encoded lazily at most once per wire format."""

    __slots__ = ("_frames", "message")

    def __init__(self, message: Mapping[str, object]) -> None:
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


# A client frame is one flat map; a little nesting is tolerated in values nobody reads.
MAX_NESTING = 16
# Integers a frame may carry, in digits: Python refuses past 4,300 digits with a ValueError,
# and parsing long ones costs quadratic time.
MAX_INT_DIGITS = 20


def decode_client_frame(data: bytes | str, wire: WireFormat) -> dict[str, object]:
    """A client frame as a map with a string ``type``; :class:`ProtocolError` otherwise.

    Whatever the bytes, this returns or raises ProtocolError: nesting is checked
    before the JSON parser runs (so no input can exhaust the stack), integers are
    bounded to ``MAX_INT_DIGITS`` digits, and every string of the result (keys
    too) is valid Unicode text: a JSON escape of a lone surrogate is refused.
    """
    if wire is WireFormat.msgpack:
        if not isinstance(data, bytes):
            raise ProtocolError("bad_frame", "This connection speaks msgpack: send binary frames.")
        try:
            # Strings are decoded as strict UTF-8, which refuses encoded surrogates: every
            # string of the result is valid Unicode text without a further pass.
            value = msgpack.unpackb(data, raw=False, strict_map_key=True)
        except Exception as exc:  # msgpack raises several unrelated kinds on garbage
            raise ProtocolError("bad_frame", f"The frame is not valid msgpack: {exc}.") from None
        if not isinstance(value, dict):
            raise ProtocolError("bad_frame", "A frame must be a map with a 'type'.")
    else:
        if not isinstance(data, str):
            raise ProtocolError("bad_frame", "This connection speaks JSON: send text frames.")
        _check_json_nesting(data)
        try:
            value = json.loads(data, parse_int=_bounded_int)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError("bad_frame", f"The frame is not valid JSON: {exc}.") from None
        if not isinstance(value, dict):
            raise ProtocolError("bad_frame", "A frame must be a map with a 'type'.")
        _check_text(value)  # a JSON escape may name a lone surrogate
    kind = value.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_frame", "A frame must have a string 'type'.")
    return value


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _check_json_nesting(text: str) -> None:
    """Refuse JSON nested deeper than ``MAX_NESTING``, in one pass without recursion
    (a count first: only frames with many brackets are scanned)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ProtocolError(
                    "bad_frame", f"The frame is nested deeper than {MAX_NESTING} levels."
                )
        elif char in "]}":
            depth -= 1


def _check_text(value: dict[str, object]) -> None:
    """Every string in the frame (keys and values, at any depth) must be valid Unicode."""
    pending: list[object] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and SURROGATE.search(item) is not None:
            raise ProtocolError(
                "invalid_field", "The frame holds a string that is not valid Unicode text."
            )
