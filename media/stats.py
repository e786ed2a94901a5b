"""Counters of a publication's tracks and of each viewer's tracks."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class TrackInStats:
    """What a publisher's track brought in and what the relay asked of it."""

    frames_in: int = 0
    bytes_in: int = 0
    keyframes_in: int = 0
    keyframe_requests_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrackOutStats:
    """What one viewer's track was sent, lost to overflow, and asked for."""

    frames_out: int = 0
    bytes_out: int = 0
    frames_dropped: int = 0
    keyframe_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
