"""The data dir's private parts: the lock that gives it to one node, secrets kept in it,
and a short private place for the embedded store's socket.

Guarantees:

* :class:`DataDirLock` is held (``flock`` ``LOCK_EX``) by at most one open file at a
  time. The kernel drops it when its holder exits, however it exits, so finding it
  free proves that whoever held it before is gone.
* :func:`private_secret` returns a file's secret, generating it once; the file is
  mode 0600 whatever mode an older version left it with.
* :func:`private_dir` answers only a directory this user owns that nobody else may
  enter, so a socket placed there is reachable by this user alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

LOCK_FILE = "livecommerce.lock"


class DataDirLock:
    """An exclusive lock on a data dir, held until :meth:`release` or the process ends."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._descriptor: int | None = None

    @property
    def held(self) -> bool:
        return self._descriptor is not None

    def acquire(self) -> bool:
        """Take the lock without waiting and write this pid into it; False when another
        process (or another open of the file in this one) holds it."""
        if self._descriptor is not None:
            return True
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        except BaseException:
            os.close(descriptor)
            raise
        os.fchmod(descriptor, 0o600)
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        self._descriptor = descriptor
        return True

    def holder(self) -> str:
        """The pid the holder wrote into the lock file (for messages), or ``unknown``."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            return "unknown"
        return text if text.isdigit() else "unknown"

    def release(self) -> None:
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, 0)
            os.close(descriptor)  # closing the last descriptor drops the flock


def make_private(path: Path) -> None:
    """Take group and other access away from a file or directory this user owns."""
    with contextlib.suppress(OSError):
        info = path.lstat()
        if info.st_uid == os.geteuid() and not stat.S_ISLNK(info.st_mode):
            path.chmod(stat.S_IMODE(info.st_mode) & 0o700)


def private_secret(path: Path, nbytes: int = 32) -> str:
    """The secret stored in ``path``, generating a random one (mode 0600) when the file
    is missing or empty. Callers serialise on the data-dir lock."""
    with contextlib.suppress(FileNotFoundError):
        make_private(path)
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing
    value = secrets.token_urlsafe(nbytes)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)
    return value


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (also when the file existed)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def private_dir(path: Path) -> bool:
    """Create ``path`` (mode 0700) if needed; True only when it is a real directory this
    user owns with no group or other access (a directory someone else made in a shared
    /tmp, or a symlink, is refused)."""
    try:
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        info = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        return False
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)
    return True


def runtime_dirs() -> list[Path]:
    """Short per-user directories for sockets: ``$XDG_RUNTIME_DIR/livecommerce``, then
    ``/tmp/livecommerce-UID`` (the system temp dir)."""
    bases: list[Path] = []
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/"):
        bases.append(Path(runtime) / "livecommerce")
    bases.append(Path(tempfile.gettempdir()) / f"livecommerce-{os.geteuid()}")
    return bases


def socket_paths(data_dir: Path, name: str, max_bytes: int) -> list[Path]:
    """Where a socket for ``data_dir`` may go, best first: ``data_dir/name`` when it fits
    a unix socket address, else names derived from the data dir in the per-user runtime
    dirs (see :func:`runtime_dirs`) that fit; empty when none does."""
    own = data_dir / name
    if len(os.fsencode(own)) <= max_bytes:
        return [own]
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    stem, dot, suffix = name.partition(".")
    candidates = [base / f"{stem}-{digest}{dot}{suffix}" for base in runtime_dirs()]
    return [path for path in candidates if len(os.fsencode(path)) <= max_bytes]
