"""What the benchmarks share: a light WebSocket client, a livecommerce node in a
child process, CPU metering and small helpers.

The client is a raw asyncio protocol (handshake and RFC 6455 framing by hand,
answering pings): aiohttp's client costs a task and queues per socket, which
would make the clients, not the server, the limit on two cores.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import queue
import resource
import secrets
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psutil
import uvloop

from livecommerce.store.embedded import EmbeddedValkey

HOST = "127.0.0.1"
SERVER_START_TIMEOUT_S = 30.0
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def raise_nofile_limit() -> int:
    """Lift the open-files limit as far as allowed (root may raise the hard limit too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(OSError, ValueError):
        nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(nr_open, 1 << 20),) * 2)
        return min(nr_open, 1 << 20)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard if hard != resource.RLIM_INFINITY else soft


def run_loop(main: Any) -> Any:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def say(line: str) -> None:
    print(line, flush=True)


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def percentile(latencies: Counter[float], fraction: float) -> float:
    """The ``fraction`` percentile of a histogram of latencies (value → count)."""
    total = sum(latencies.values())
    if not total:
        return float("nan")
    wanted, seen = fraction * total, 0
    for value in sorted(latencies):
        seen += latencies[value]
        if seen >= wanted:
            return value
    return max(latencies)


def bucket_ms(ms: float) -> float:
    """Latency histogram bucket: 0.1 ms under 100 ms, 1 ms above."""
    ms = max(0.0, ms)
    return round(ms, 1) if ms < 100 else float(round(ms))


# --- WebSocket client ----------------------------------------------------------------


def client_frame(payload: bytes, opcode: int) -> bytes:
    """A masked, final client frame (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = os.urandom(4)
    if not size:
        return header + mask
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
    return header + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")


def handshake_request(path: str, port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


class RawWebSocket(asyncio.Protocol):
    """One client WebSocket; subclasses handle whole messages in :meth:`on_message`
    and call :meth:`set_ready` when the server's greeting arrived."""

    def __init__(self, request: bytes, errors: Counter[str]) -> None:
        self.errors = errors
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.finished = False
        self._request = request
        self._transport: asyncio.Transport | None = None
        self._upgraded = False
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0
        self._close_code: int | None = None

    def on_message(self, payload: bytes, opcode: int, now: float) -> None:
        raise NotImplementedError

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready, {self._closed_how()}"))
        elif not self.finished:
            self.errors[f"disconnected, {self._closed_how()}"] += 1

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded and not self._read_handshake():
            return
        now = time.time()
        buffer, pos, size = self._buffer, 0, len(self._buffer)
        while size - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = (buffer[pos + 2] << 8) | buffer[pos + 3], 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            payload = bytes(buffer[pos + head : end])
            pos = end
            if first in (0x81, 0x82):  # final text or binary frame: the hot path
                self._deliver(payload, first & 0x0F, now)
            else:
                self._frame(first, payload, now)
        del buffer[:pos]

    # WebSocket

    def send(self, payload: bytes, opcode: int) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(client_frame(payload, opcode))

    def abort(self) -> None:
        self.finished = True
        if self._transport is not None:
            self._transport.abort()

    def set_ready(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def _deliver(self, payload: bytes, opcode: int, now: float) -> None:
        try:
            self.on_message(payload, opcode, now)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            self.errors[f"undecodable frame ({type(exc).__name__})"] += 1

    def _closed_how(self) -> str:
        if self._close_code is None:
            return "no close frame"
        return f"close code {self._close_code}"

    def _read_handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(self._buffer[: self._buffer.find(b"\r\n")])
        del self._buffer[: end + 4]
        if b" 101 " not in status:
            self._fail(f"upgrade refused: {status.decode(errors='replace')}")
            return False
        self._upgraded = True
        return True

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode == OP_PING:
            self.send(payload, OP_PONG)
        elif opcode == OP_CLOSE:
            self._close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.send(payload[:2], OP_CLOSE)
            if self._transport is not None:
                self._transport.close()
        elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            if opcode != OP_CONT:
                self._fragment_opcode = opcode
            self._fragments.append(payload)
            if first & 0x80:
                message, self._fragments = b"".join(self._fragments), []
                self._deliver(message, self._fragment_opcode, now)

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self._transport is not None:
            self._transport.abort()


# --- A livecommerce node in a child process -------------------------------------------


def pump(stream: Any, sink: Callable[[str], None]) -> None:
    for line in stream:
        sink(line.rstrip("\n"))


class LivecommerceNode:
    """``python -m livecommerce serve`` with its own embedded store in a temporary dir, or
    sharing ``store_url`` (and then ``secret``) with another node; ``env`` adds
    ``LIVECOMMERCE_*`` settings."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        store_url: str = "",
        secret: str = "",
    ) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-lc-")
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMMERCE_")}
        self.secret = secret or secrets.token_urlsafe(48)
        self._env.update(LIVECOMMERCE_AUTH_SECRET=self.secret, LIVECOMMERCE_LOG_LEVEL="warning")
        # Benchmarks open thousands of sockets and media sessions from one address.
        self._env.update(
            LIVECOMMERCE_SERVER_MAX_CONNECTIONS_PER_ADDRESS="0",
            LIVECOMMERCE_CHANNEL_MAX_SOCKETS_PER_ADDRESS="0",
            LIVECOMMERCE_MEDIA_MAX_SESSIONS_PER_ADDRESS="0",
        )
        self._env.update(env or {})
        self._shared_store = store_url
        store = ["--redis-url", store_url] if store_url else []
        self._process = subprocess.Popen(
            [*self._cli(), "serve", "--port", "0", "--data-dir", self._dir.name, *store],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._env,
            preexec_fn=raise_nofile_limit,
        )
        self.pid = self._process.pid
        self.stderr: deque[str] = deque(maxlen=50)
        lines: queue.Queue[str] = queue.Queue()
        self._pumps = [
            threading.Thread(target=pump, args=(self._process.stdout, lines.put), daemon=True),
            threading.Thread(target=pump, args=(self._process.stderr, self.stderr.append)),
        ]
        for thread in self._pumps:
            thread.start()
        self.url = self._wait_listening(lines)
        self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))

    @property
    def store_url(self) -> str:
        """The store's URL: the shared one, or the embedded store's (with its password)."""
        return self._shared_store or EmbeddedValkey(self._dir.name).url

    @staticmethod
    def _cli() -> list[str]:
        return [sys.executable, "-m", "livecommerce"]

    def _wait_listening(self, lines: queue.Queue[str]) -> str:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline and self._process.poll() is None:
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=0.2)
                if line.startswith("livecommerce listening on "):
                    return line.removeprefix("livecommerce listening on ").strip()
        self.stop()
        raise RuntimeError(f"livecommerce did not start: {list(self.stderr)}")

    def token(self, role: str, user: str) -> str:
        args = ["token", "--role", role, "--user", user, "--data-dir", self._dir.name]
        done = subprocess.run(
            [*self._cli(), *args], capture_output=True, text=True, env=self._env, check=True
        )
        return done.stdout.strip()

    def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read()!r}") from None

    def log_tail(self) -> list[str]:
        return list(self.stderr)[-10:]

    def store_pids(self) -> list[int]:
        with contextlib.suppress(psutil.Error):
            return [child.pid for child in psutil.Process(self.pid).children()]
        return []

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for thread in self._pumps:
            thread.join(5)
        self._dir.cleanup()


class CpuMeter:
    """CPU seconds of groups of processes between two samples, as % of one core."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self._groups = groups
        self._start: dict[str, float] = {}
        self._wall = 0.0
        self._machine: Any = None

    @staticmethod
    def _seconds(pids: list[int]) -> float:
        total = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total

    def start(self) -> None:
        self._start = {name: self._seconds(pids) for name, pids in self._groups.items()}
        self._wall = time.monotonic()
        self._machine = psutil.cpu_times()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._wall
        used = {
            name: 100 * (self._seconds(pids) - self._start[name]) / wall
            for name, pids in self._groups.items()
        }
        start, end = self._machine, psutil.cpu_times()
        busy = sum(end) - sum(start) - (end.idle - start.idle) - (end.iowait - start.iowait)
        used["machine"] = 100 * busy / (sum(end) - sum(start))
        return used


def pin(pids: list[int], cpus: set[int]) -> None:
    """Keep every thread of these processes on ``cpus`` (Linux; elsewhere nothing)."""
    if not hasattr(os, "sched_setaffinity"):
        return
    for pid in pids:
        try:
            threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            threads = [pid]
        for tid in threads:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, cpus)


def pin_apart(servers: list[int], stores: list[int], load: list[int]) -> str:
    """The server processes alone on CPU 0; their stores, the load generators (at nice
    10, behind the stores) and this script on the other CPUs, as if the load ran on other
    machines. Returns what was done, to print."""
    others = set(range(1, os.cpu_count() or 2)) or {0}
    pin(servers, {0})
    pin([*stores, *load, os.getpid()], others)
    for pid in load:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, 10)
    return f"pinned: the server on CPU 0; its store, the load (nice 10) on {sorted(others)}"
