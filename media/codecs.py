"""Codecs the relay forwards: which ones negotiate, and which frames are keyframes.

The relay never decodes, so it can forward any H.264 profile a publisher
sends. aiortc negotiates H.264 by profile (RFC 6184: the profile part of
``profile-level-id`` must match, the level need not) but only lists the two
baseline profiles, so an OBS offer (High) would fail to negotiate.
:func:`missing_video_codecs` names the entries to add (the level we declare is
5.2 because a relay can receive any level); adding them, and Opus's stereo
parameters, to aiortc's codec table is :func:`media.aiortc_patches.install`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aiortc.codecs import CODECS
from aiortc.rtcpeerconnection import is_codec_compatible
from aiortc.rtcrtpparameters import (
    RTCRtcpFeedback,
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
)
from aiortc.sdp import H264Profile, parse_h264_profile_level_id

VIDEO_CLOCK_RATE: Final = 90_000
AUDIO_CLOCK_RATE: Final = 48_000
SUPPORTED_VIDEO: Final = ("video/vp8", "video/h264")
SUPPORTED_AUDIO: Final = ("audio/opus",)

# profile_idc + profile_iop of each H.264 profile aiortc does not list, at level 5.2.
EXTRA_H264_PROFILES: Final = ("4d0034", "640c34", "640034", "f40034")
# Opus: tell the peer we send and want stereo (aiortc's Opus is stereo already,
# but without these parameters browsers downmix to mono).
OPUS_PARAMETERS: Final = {"minptime": 10, "useinbandfec": 1, "stereo": 1, "sprop-stereo": 1}

NAL_IDR: Final = 5
NAL_SPS: Final = 7


def _h264(profile_level_id: str, payload_type: int) -> list[RTCRtpCodecParameters]:
    return [
        RTCRtpCodecParameters(
            mimeType="video/H264",
            clockRate=VIDEO_CLOCK_RATE,
            payloadType=payload_type,
            rtcpFeedback=[
                RTCRtcpFeedback(type="nack"),
                RTCRtcpFeedback(type="nack", parameter="pli"),
                RTCRtcpFeedback(type="goog-remb"),
            ],
            parameters={
                "level-asymmetry-allowed": "1",
                "packetization-mode": "1",
                "profile-level-id": profile_level_id,
            },
        ),
        RTCRtpCodecParameters(
            mimeType="video/rtx",
            clockRate=VIDEO_CLOCK_RATE,
            payloadType=payload_type + 1,
            parameters={"apt": payload_type},
        ),
    ]


def missing_video_codecs(
    video: Sequence[RTCRtpCodecParameters],
) -> list[RTCRtpCodecParameters]:
    """The H.264 entries (each with its RTX) a video codec table lacks to match every profile.

    Their payload types follow the table's highest; empty when nothing is missing.
    """
    known = {
        h264_profile(str(c.parameters.get("profile-level-id", "")))
        for c in video
        if c.mimeType.lower() == "video/h264"
    }
    payload_type = max(c.payloadType or 0 for c in video) + 1
    missing: list[RTCRtpCodecParameters] = []
    for profile_level_id in EXTRA_H264_PROFILES:
        if h264_profile(profile_level_id) in known:
            continue
        missing.extend(_h264(profile_level_id, payload_type))
        payload_type += 2
    return missing


def h264_profile(profile_level_id: str) -> H264Profile | None:
    """The profile of a ``profile-level-id`` (RFC 6184), or None when it is not one."""
    try:
        return parse_h264_profile_level_id(profile_level_id)[0]
    except ValueError:
        return None


def capability_of(codec: RTCRtpCodecParameters) -> RTCRtpCodecCapability:
    """The capability to prefer so a viewer negotiates exactly the publisher's codec."""
    return RTCRtpCodecCapability(
        mimeType=codec.mimeType,
        clockRate=codec.clockRate,
        channels=codec.channels,
        parameters=dict(codec.parameters),
    )


@dataclass(frozen=True)
class CodecInfo:
    """What the relay needs to know about a negotiated codec."""

    mime_type: str
    clock_rate: int

    @property
    def kind(self) -> str:
        return self.mime_type.split("/")[0]

    @property
    def name(self) -> str:
        return self.mime_type.split("/")[1]


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether a depayloaded frame starts a group of pictures (audio frames always do).

    VP8 (RFC 6386 §9.1): bit 0 of the first byte is 0 on a key frame.
    H.264 (Annex B, as aiortc depayloads it): an IDR slice (5) or an SPS (7).
    """
    mime = mime_type.lower()
    if mime == "video/vp8":
        return bool(data) and data[0] & 0x01 == 0
    if mime == "video/h264":
        return any(nal in (NAL_IDR, NAL_SPS) for nal in h264_nal_types(data))
    return True


def h264_nal_types(data: bytes) -> list[int]:
    """The NAL unit types of an Annex-B buffer."""
    types: list[int] = []
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        types.append(data[start + 3] & 0x1F)
        start = data.find(b"\x00\x00\x01", start + 3)
    return types


def choose_codec(
    offered: list[RTCRtpCodecParameters], prefer: str = ""
) -> RTCRtpCodecParameters | None:
    """Our codec entry for the first forwardable codec of an offer, in the offer's order,
    except that a ``prefer``-red mime type goes first when the offer has it."""
    if prefer:
        wanted = [c for c in offered if c.mimeType.lower() == prefer.lower()]
        others = [c for c in offered if c.mimeType.lower() != prefer.lower()]
        offered = wanted + others
    for remote in offered:
        mime = remote.mimeType.lower()
        if mime not in SUPPORTED_VIDEO and mime not in SUPPORTED_AUDIO:
            continue
        for local in CODECS[remote.mimeType.split("/")[0].lower()]:
            if is_codec_compatible(local, remote):
                return local
    return None


def preferences_for(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Codec preferences that leave only ``codec`` (and RTX for video) to negotiate."""
    preferences = [capability_of(codec)]
    if codec.mimeType.lower().startswith("video/"):
        preferences.append(RTCRtpCodecCapability(mimeType="video/rtx", clockRate=codec.clockRate))
    return preferences
