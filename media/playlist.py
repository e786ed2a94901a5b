"""HLS media playlists (RFC 8216) of a recording's fMP4 segments.

``EXT-X-TARGETDURATION`` must be at least every segment's duration rounded to the
nearest second (§4.3.3.1). Segments are cut at keyframes only (nothing is
re-encoded), so a publisher whose keyframe interval is longer than the target
makes longer segments: the target is then raised to the longest segment. A live
playlist appears with its first segment, so a steady keyframe interval gives a
steady target from the start (a player holds back at least one target duration
from the live edge: stating more than the segments need would only add latency);
a keyframe interval longer than any before raises it, the one case where a live
playlist's target changes (as other live packagers do, e.g. MediaMTX).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

INIT_NAME: Final = "init.mp4"
PLAYLIST_NAME: Final = "index.m3u8"
SEGMENT_NAME: Final = re.compile(r"^seg_(\d{6})\.m4s$")


@dataclass(frozen=True)
class Segment:
    name: str
    duration_s: float


def segment_name(index: int) -> str:
    return f"seg_{index:06d}.m4s"


def target_duration(segments: list[Segment], target_s: float) -> int:
    """``EXT-X-TARGETDURATION``: every segment's duration rounded (half up), never below
    the target. A publisher with a steady keyframe interval gets a steady value from the
    first segment on; only a keyframe interval longer than every one before raises it.
    """
    longest = max((math.floor(s.duration_s + 0.5) for s in segments), default=0)
    return max(math.ceil(target_s), longest, 1)


def render(
    segments: list[Segment], target_s: float, *, finished: bool, started_at: float | None = None
) -> str:
    """The playlist text: ``EVENT`` while recording, ``VOD`` + ``EXT-X-ENDLIST`` once done.

    ``started_at`` (seconds since the epoch when the first frame arrived) becomes
    ``EXT-X-PROGRAM-DATE-TIME``, so a player knows how far behind the live it plays.
    """
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target_duration(segments, target_s)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        f"#EXT-X-PLAYLIST-TYPE:{'VOD' if finished else 'EVENT'}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{INIT_NAME}"',
    ]
    if started_at is not None:
        when = datetime.fromtimestamp(started_at, UTC).isoformat(timespec="milliseconds")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{when.replace('+00:00', 'Z')}")
    for segment in segments:
        lines.append(f"#EXTINF:{segment.duration_s:.3f},")
        lines.append(segment.name)
    if finished:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def parse(text: str) -> list[Segment]:
    """The segments of a playlist this module wrote (crash recovery reads it back)."""
    segments: list[Segment] = []
    duration: float | None = None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            if SEGMENT_NAME.match(line):
                segments.append(Segment(line, duration))
            duration = None
    return segments


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)  # a full disk: leave no half file behind
        raise
