"""Finishing recordings a killed node left behind (run when a node starts).

A recording whose ``recording.json`` still says ``recording`` and whose lock no
process holds (the kernel dropped it with the process) was cut short:
its HLS playlist already lists every finished segment, so it is rewritten as
``VOD`` with ``EXT-X-ENDLIST`` and the unfinished ``.part`` segment is removed;
a WebM part file is copied into an indexed file (:func:`finalise_webm`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from media.playlist import PLAYLIST_NAME, parse, render, write_atomically
from media.recorder import STATE_NAME, RecordingResult, lock_directory
from media.webm_writer import finalise_webm


def read_state(directory: Path) -> dict[str, object] | None:
    try:
        state = json.loads((directory / STATE_NAME).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def finalise(directory: Path, target_s: float) -> RecordingResult | None:
    """Finish a crashed recording in ``directory``; None when it needs nothing (or is empty)."""
    state = read_state(directory)
    if state is None or state.get("state") != "recording":
        return None
    lock = lock_directory(directory)
    if lock is None:
        return None  # a live recorder (another node on a shared directory) holds it
    try:
        return _finalise(directory, target_s, state)
    finally:
        os.close(lock)


def _finalise(directory: Path, target_s: float, state: dict[str, object]) -> RecordingResult:
    fmt = str(state.get("format"))
    result = RecordingResult(directory, fmt, stopped="node_stopped")
    for part in directory.glob("*.part"):
        part.unlink(missing_ok=True)
    if fmt == "hls":
        playlist = directory / PLAYLIST_NAME
        segments = parse(playlist.read_text()) if playlist.exists() else []
        if segments:
            write_atomically(playlist, render(segments, target_s, finished=True).encode())
        result.segments = segments
        result.duration_s = sum(s.duration_s for s in segments)
    else:
        result.duration_s = finalise_webm(directory) or 0.0
    record = {
        "state": "stopped",
        "format": fmt,
        "duration_s": result.duration_s,
        "stopped": result.stopped,
    }
    (directory / STATE_NAME).write_text(json.dumps(record))
    return result
