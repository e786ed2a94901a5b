"""The disk space recordings may use, shared by every recording of a node.

Thread-safe: recorders write from their own threads. A write that would go over
the cap is refused (:class:`DiskCapError`) before it reaches the disk; a disk
that fills up first raises ``OSError(ENOSPC)`` from the write itself. Either
way the recording stops and the live stream goes on.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


class DiskCapError(Exception):
    """Recordings would use more than their configured share of the disk."""


class DiskBudget:
    """``cap_bytes`` for all recordings together (0: no cap, only the disk's own size)."""

    def __init__(self, cap_bytes: int, used_bytes: int = 0) -> None:
        self.cap_bytes = cap_bytes
        self._used = used_bytes
        self._lock = threading.Lock()

    @property
    def used_bytes(self) -> int:
        return self._used

    def take(self, size: int) -> None:
        """Count ``size`` more bytes; DiskCapError (nothing counted) when over the cap."""
        with self._lock:
            if self.cap_bytes and self._used + size > self.cap_bytes:
                raise DiskCapError(f"recordings would use more than {self.cap_bytes} bytes")
            self._used += size

    def give_back(self, size: int) -> None:
        """Bytes freed (a recording deleted, a temporary file replaced)."""
        with self._lock:
            self._used = max(0, self._used - size)


def tree_size(path: Path) -> int:
    """Bytes of every file under ``path`` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
