"""What a container needs to know about a codec before its first frame (no decoding).

H.264: the SPS and PPS of a keyframe, in Annex-B form; FFmpeg's mp4 muxer turns
them into the ``avcC`` box of the init segment (without it players show
nothing) and rewrites each frame's start codes into length prefixes.
Opus: an ``OpusHead`` (RFC 7845 §5.1) for the ``dOps`` box and Matroska's
CodecPrivate.
"""

from __future__ import annotations

import struct
from typing import Final

from media.codecs import NAL_SPS

NAL_PPS: Final = 8
# RFC 7845 §4.2: the encoder's look-ahead; 312 samples at 48 kHz is what libopus and
# browsers use.
OPUS_PRE_SKIP: Final = 312


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B buffer, without their start codes."""
    units: list[bytes] = []
    starts: list[tuple[int, int]] = []
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        starts.append((i, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    for n, (_, begin) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(data)
        unit = data[begin:end]
        if n + 1 < len(starts):
            unit = unit.rstrip(b"\x00")  # the leading zero of a 4-byte start code
        if unit:
            units.append(unit)
    return units


def length_prefixed_units(data: bytes, size: int = 4) -> list[bytes]:
    """The NAL units of an AVCC (length-prefixed) buffer; ValueError when it is not one."""
    units: list[bytes] = []
    at = 0
    while at < len(data):
        if at + size > len(data):
            raise ValueError("truncated NAL length")
        length = int.from_bytes(data[at : at + size], "big")
        at += size
        if length == 0 or at + length > len(data):
            raise ValueError("NAL length out of range")
        units.append(data[at : at + length])
        at += length
    return units


def h264_parameter_sets(data: bytes) -> bytes | None:
    """The SPS and PPS of an Annex-B keyframe as an Annex-B buffer; None without both."""
    units = annexb_units(data)
    sps = [u for u in units if u[0] & 0x1F == NAL_SPS]
    pps = [u for u in units if u[0] & 0x1F == NAL_PPS]
    if not sps or not pps:
        return None
    return b"".join(b"\x00\x00\x00\x01" + u for u in (sps[0], pps[0]))


def h264_size(sps_pps: bytes) -> tuple[int, int] | None:
    """Width and height from an SPS (a small Exp-Golomb read); None when unreadable."""
    units = [u for u in annexb_units(sps_pps) if u[0] & 0x1F == NAL_SPS]
    if not units:
        return None
    try:
        return _sps_size(_unescape(units[0][1:]))
    except IndexError:
        return None


def opus_head(channels: int = 2, sample_rate: int = 48_000) -> bytes:
    """An ``OpusHead`` for a stream of ``channels`` channels (mapping family 0)."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, OPUS_PRE_SKIP, sample_rate, 0, 0)


def _unescape(rbsp: bytes) -> bytes:
    return rbsp.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def bit(self) -> int:
        byte = self.data[self.at >> 3]
        value = (byte >> (7 - (self.at & 7))) & 1
        self.at += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise IndexError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + bits.se() + 256) % 256
        last = nxt if nxt != 0 else last


def _sps_size(data: bytes) -> tuple[int, int]:
    """H.264 §7.3.2.1.1, as far as the picture size."""
    bits = _Bits(data)
    profile_idc = bits.bits(8)
    bits.bits(16)  # constraint flags, level_idc
    bits.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    if profile_idc in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma_format_idc = bits.ue()
        if chroma_format_idc == 3:
            bits.bit()
        bits.ue()
        bits.ue()
        bits.bit()
        if bits.bit():
            for i in range(8 if chroma_format_idc != 3 else 12):
                if bits.bit():
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.bit()
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.bit()
    width_mbs = bits.ue() + 1
    height_units = bits.ue() + 1
    frame_mbs_only = bits.bit()
    if not frame_mbs_only:
        bits.bit()
    bits.bit()  # direct_8x8_inference_flag
    crop = (0, 0, 0, 0)
    if bits.bit():
        crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue())
    crop_x = 1 if chroma_format_idc == 0 else 2 if chroma_format_idc in (1, 2) else 1
    crop_y = (1 if chroma_format_idc in (0, 2, 3) else 2) * (2 - frame_mbs_only)
    width = width_mbs * 16 - crop_x * (crop[0] + crop[1])
    height = height_units * 16 * (2 - frame_mbs_only) - crop_y * (crop[2] + crop[3])
    return width, height


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 keyframe (RFC 6386 §9.1); None for other frames."""
    if len(data) < 10 or data[0] & 0x01 or data[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return width, height
