"""A replay as the API shows it."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

# "<room>-<12 hex>": the room is in the id, so the replay's keys share its hash tag.
REPLAY_ID: Final = re.compile(r"^([A-Za-z0-9_-]{1,64})-([0-9a-f]{12})$")
# The only files of a recording that are served or uploaded (nothing else in its directory).
FILE_NAME: Final = re.compile(r"^(index\.m3u8|init\.mp4|seg_\d{6}\.m4s|video\.webm)$")
CONTENT_TYPES: Final = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
    ".webm": "video/webm",
}


class ReplayStatus(StrEnum):
    recording = "recording"
    ready = "ready"


def new_replay_id(room_id: str) -> str:
    return f"{room_id}-{secrets.token_hex(6)}"


def room_of(replay_id: str) -> str | None:
    """The room a well-formed replay id belongs to; None for anything else."""
    match = REPLAY_ID.match(replay_id)
    return match.group(1) if match else None


def _text(fields: dict[str, str], name: str) -> str:
    return fields.get(name, "")


def _number(fields: dict[str, str], name: str) -> float:
    try:
        return float(_text(fields, name) or 0)
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class Replay:
    id: str
    room: str
    anchor: str
    node_url: str
    started_at: int
    ended_at: int | None
    duration_s: float
    video_codec: str
    format: str  # "hls" or "webm"
    status: ReplayStatus
    stopped: str | None
    storage: str = "local"  # or "s3": uploaded to the configured bucket
    files: tuple[str, ...] = ()  # what was uploaded
    node_id: str = ""  # the node recording it (its registry id)
    # Deleted through a node that does not record it: hidden at once, gone once the
    # recording node has stopped it (never shown by the API).
    deleting: bool = False

    @classmethod
    def from_hash(cls, fields: dict[str, str]) -> Replay:
        ended = int(_number(fields, "ended_at"))
        return cls(
            id=_text(fields, "id"),
            room=_text(fields, "room"),
            anchor=_text(fields, "anchor"),
            node_url=_text(fields, "node_url"),
            started_at=int(_number(fields, "started_at")),
            ended_at=ended or None,
            duration_s=round(_number(fields, "duration_s"), 3),
            video_codec=_text(fields, "video_codec"),
            format=_text(fields, "format"),
            status=ReplayStatus(_text(fields, "status") or "recording"),
            stopped=_text(fields, "stopped") or None,
            storage=_text(fields, "storage") or "local",
            files=tuple(json.loads(_text(fields, "files") or "[]")),
            node_id=_text(fields, "node"),
            deleting=_text(fields, "deleting") == "1",
        )

    @property
    def playback_path(self) -> str:
        name = "index.m3u8" if self.format == "hls" else "video.webm"
        return f"/replays/{self.id}/{name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room,
            "anchor": self.anchor,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": self.duration_s,
            "video_codec": self.video_codec,
            "status": self.status.value,
            "stopped": self.stopped,
            "storage": self.storage,
            "playback_url": self.playback_path,
            "timeline_url": f"/api/replays/{self.id}",
            "page_url": f"/replays/{self.id}",
        }
