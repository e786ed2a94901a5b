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


@dataclass
class KindTotals:
    """Node-wide sums of one kind's (audio or video) track counters."""

    frames_in: int = 0
    bytes_in: int = 0
    keyframes_in: int = 0
    keyframe_requests_sent: int = 0
    frames_out: int = 0
    bytes_out: int = 0
    frames_dropped: int = 0
    keyframe_requests: int = 0

    def add_in(self, stats: TrackInStats) -> None:
        self.frames_in += stats.frames_in
        self.bytes_in += stats.bytes_in
        self.keyframes_in += stats.keyframes_in
        self.keyframe_requests_sent += stats.keyframe_requests_sent

    def add_out(self, stats: TrackOutStats) -> None:
        self.frames_out += stats.frames_out
        self.bytes_out += stats.bytes_out
        self.frames_dropped += stats.frames_dropped
        self.keyframe_requests += stats.keyframe_requests


class MediaCounters:
    """Totals of every relay's and viewer track's counters on a node, for metrics.

    Relays and tracks register their stats when made and retire them when closed;
    retired counts are kept, so totals never go down. Nothing is added to the
    per-frame path: the tracks keep counting into their own stats, and
    :meth:`totals` sums them when asked.
    """

    def __init__(self) -> None:
        self._inbound: dict[int, tuple[str, TrackInStats]] = {}
        self._outbound: dict[int, tuple[str, TrackOutStats]] = {}
        self._retired: dict[str, KindTotals] = {}

    def track_in(self, kind: str, stats: TrackInStats) -> None:
        self._inbound[id(stats)] = (kind, stats)

    def track_out(self, kind: str, stats: TrackOutStats) -> None:
        self._outbound[id(stats)] = (kind, stats)

    def retire_in(self, stats: TrackInStats) -> None:
        """Keep a closed relay's counts (idempotent)."""
        entry = self._inbound.pop(id(stats), None)
        if entry is not None:
            self._retired.setdefault(entry[0], KindTotals()).add_in(entry[1])

    def retire_out(self, stats: TrackOutStats) -> None:
        """Keep a stopped viewer track's counts (idempotent)."""
        entry = self._outbound.pop(id(stats), None)
        if entry is not None:
            self._retired.setdefault(entry[0], KindTotals()).add_out(entry[1])

    def totals(self) -> dict[str, KindTotals]:
        """Counts by kind, of running and closed tracks together."""
        result = {kind: KindTotals(**asdict(totals)) for kind, totals in self._retired.items()}
        for kind, stats in self._inbound.values():
            result.setdefault(kind, KindTotals()).add_in(stats)
        for kind, out in self._outbound.values():
            result.setdefault(kind, KindTotals()).add_out(out)
        return result
