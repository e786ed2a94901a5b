"""Chat fan-out benchmark: livecommerce against a python-socketio baseline.

Run from the repository root, with the ``bench`` extra installed::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python scripts/bench_chat.py                  # both servers, defaults
    .venv/bin/python scripts/bench_chat.py --clients 5000 --rate 16 --duration 20 --processes 4
    .venv/bin/python scripts/bench_chat.py --only livecommerce --profile /tmp/prof
    .venv/bin/python scripts/bench_chat.py --pin   # each server alone on CPU 0

For each server the script starts the server as a child process, opens
``--clients`` WebSockets to one room from ``--processes`` client processes,
then a publisher process sends chat at ``--rate`` messages per second for
``--duration`` seconds; every message reaches every socket, so the offered
load is rate x clients deliveries per second.

Servers:

* **livecommerce**: ``python -m livecommerce serve --port 0 --data-dir TMP``
  (its own embedded Valkey), receivers are anonymous viewers of
  ``/ws/rooms/ROOM`` (msgpack by default), the publisher a moderator (exempt
  from the chat rate limit; the per-connection frame limit is raised through
  ``LIVECOMMERCE_CHANNEL_FRAMES_*``). Each chat takes the real path: Lua
  script into the history stream, SPUBLISH, bus subscription, fan-out.
* **socketio**: a python-socketio ``AsyncServer`` in aiohttp mode (same uvloop
  loop policy as ``livecommerce serve``) in a child process; on each ``chat``
  event it emits a chat frame of the same shape to a room holding every socket.

Both are driven by the same light client: a raw asyncio WebSocket protocol
(handshake and RFC 6455 framing by hand, answering pings) that speaks the
livecommerce channel or Engine.IO 4 / Socket.IO 5 over the WebSocket
transport. ``socketio.AsyncClient`` costs a task, queues and an aiohttp
session per socket, which would make the clients, not the server, the limit
on two cores.

Measured, over the window from ``--warmup`` seconds after the first message
to the last one sent: deliveries per second at the receivers, p50/p99
delivery latency (the publisher puts ``time.time()`` as JSON in the chat
text; receivers decode every frame, take that time from its text and compare
it with ``time.time()`` on arrival; one machine, one clock), CPU of the server process (and of its
embedded store, the clients and the whole machine), and every error:
failed connects, error frames, unexpected closes by close code, messages
never delivered once the receivers went quiet after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import msgpack
import psutil
from benchkit import (
    HOST,
    OP_BINARY,
    OP_TEXT,
    CpuMeter,
    LivecommerceNode,
    RawWebSocket,
    handshake_request,
    pin_apart,
    raise_nofile_limit,
    run_loop,
    say,
    split,
)

Kind = Literal["livecommerce", "socketio"]
KINDS: tuple[Kind, ...] = ("livecommerce", "socketio")
ROOM = "bench"
# Handshakes in flight per client process, so that a burst of connects is not the test.
CONNECT_CONCURRENCY = 64
CONNECT_TIMEOUT_S = 60.0
# After the last message, receivers wait for this much silence (at most DRAIN_MAX_S);
# a node busy writing to 15,000 sockets can leave one client process unserved for a second.
DRAIN_QUIET_S = 3.0
# Receivers count chat frames by a mark in the bytes they read and take one latency
# sample per read, instead of decoding every delivery: that costs the clients as much
# CPU as the server spends, and on a shared machine it is taken from the server under
# test. Marks: the frame's type, and where the send time starts in the chat text.
CHAT_MARKS: dict[tuple[str, str], tuple[bytes, bytes]] = {
    ("livecommerce", "msgpack"): (b"\xa4type\xa4chat", b'{"t":'),  # the text as raw bytes
    ("livecommerce", "json"): (b'"type":"chat"', b'{\\"t\\":'),  # the text JSON-escaped
    ("socketio", "json"): (b'42["chat"', b'{\\"t\\":'),
}
DRAIN_MAX_S = 10.0
SERVER_START_TIMEOUT_S = 30.0


def chat_text(seq: int) -> str:
    """The chat text: JSON-like with the send time, ``{"t":1_764_091_425.123_456,"n":42}``.
    The digits are grouped with underscores (``float()`` reads them) so that automod's
    phone rule, which scripts/bench_automod.py runs on every message, lets it through."""
    whole, _, fraction = f"{time.time():_.6f}".partition(".")
    return f'{{"t":{whole}.{fraction[:3]}_{fraction[3:]},"n":{seq}}}'


def sent_at(text: str) -> float:
    """The ``t`` of :func:`chat_text`, sliced out: a full JSON decode per delivery
    would cost the receivers a fifth of their CPU, which the server then lacks."""
    return float(text[5 : text.index(",", 5)])


@dataclass
class ClientStats:
    """What one client process saw, over all its sockets."""

    window: tuple[float, float] = (math.inf, math.inf)
    delivered: int = 0
    delivered_in_window: int = 0
    last_delivery: float = 0.0
    latency_ms: Counter[float] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def deliver(self, sent_at: float | None, now: float, count: int = 1) -> None:
        """``count`` chat deliveries; ``sent_at`` of one of them, sampled for latency."""
        self.delivered += count
        self.last_delivery = now
        start, end = self.window
        if start <= now < end:
            self.delivered_in_window += count
            if sent_at is not None:
                ms = max(0.0, (now - sent_at) * 1000)
                self.latency_ms[round(ms, 1) if ms < 100 else float(round(ms))] += 1


class BenchSocket(RawWebSocket):
    """One client WebSocket speaking the server's dialect."""

    def __init__(
        self, kind: Kind, wire: str, request: bytes, stats: ClientStats, receiver: bool
    ) -> None:
        super().__init__(request, stats.errors)
        self.kind = kind
        self.stats = stats
        self.receiver = receiver
        self._counting = False
        self._tail = b""
        self._chat_mark, self._time_mark = CHAT_MARKS[kind, wire]

    def data_received(self, data: bytes) -> None:
        if not self._counting:
            super().data_received(data)
            return
        # Count chat frames by their mark in the raw bytes (a C-speed scan per read, not
        # Python per frame); the tail carries a mark split over two reads.
        chunk = self._tail + data
        self._tail = chunk[-(len(self._chat_mark) - 1) :]
        count = chunk.count(self._chat_mark)
        if count:
            self.stats.deliver(self._last_sent_at(chunk), time.time(), count)

    def _last_sent_at(self, chunk: bytes) -> float | None:
        """The send time in the read's last complete chat text: one latency sample per read."""
        at = chunk.rfind(self._time_mark)
        end = chunk.find(b",", at) if at >= 0 else -1
        if end < 0:
            return None
        try:
            return float(chunk[at + len(self._time_mark) : end])
        except ValueError:
            return None

    def set_ready(self) -> None:
        super().set_ready()
        # Past the greeting, a receiver only counts chat (the server's pings need no
        # answer within a run: the channel's heartbeat is far longer).
        self._counting = self.receiver

    def on_message(self, payload: bytes, opcode: int, now: float) -> None:
        if self.kind == "livecommerce":
            self._livecommerce_message(payload, opcode, now)
        else:
            self._socketio_message(payload.decode(), now)

    def _livecommerce_message(self, payload: bytes, opcode: int, now: float) -> None:
        if opcode == OP_BINARY:
            message = msgpack.unpackb(payload, raw=False)
        else:
            message = json.loads(payload)
        kind = message["type"]
        if kind == "chat":
            if self.receiver:
                self.stats.deliver(sent_at(message["text"]), now)
        elif kind == "welcome":
            self.set_ready()
        elif kind == "error":
            self.stats.errors[f"error frame {message.get('code')}"] += 1

    def _socketio_message(self, text: str, now: float) -> None:
        if text.startswith("42"):
            event, data = json.loads(text[2:])
            if event == "chat" and self.receiver:
                self.stats.deliver(sent_at(data["text"]), now)
        elif text == "2":
            self.send(b"3", OP_TEXT)  # Engine.IO pong
        elif text.startswith("0{"):
            self.send(b"40", OP_TEXT)  # join the default namespace
        elif text.startswith("40"):
            self.set_ready()
        elif text.startswith(("41", "44")):
            self.stats.errors[f"socket.io packet {text[:2]}"] += 1


# --- Client and publisher processes ----------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    kind: Kind
    port: int
    receiver_path: str
    publisher_path: str
    wire: str


@dataclass(frozen=True)
class Schedule:
    """Absolute ``time.time()`` instants, the same for every process."""

    start: float
    window_start: float
    end: float


@dataclass
class ClientReport:
    sockets: int = 0
    delivered: int = 0
    delivered_in_window: int = 0
    latency_ms: Counter[float] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class PublisherReport:
    sent: int = 0
    sent_in_window: int = 0
    max_lag_ms: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)


async def open_socket(
    endpoint: Endpoint, path: str, stats: ClientStats, receiver: bool
) -> BenchSocket:
    loop = asyncio.get_running_loop()
    request = handshake_request(path, endpoint.port)
    _, sock = await loop.create_connection(
        lambda: BenchSocket(endpoint.kind, endpoint.wire, request, stats, receiver),
        HOST,
        endpoint.port,
    )
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await sock.ready
    except BaseException:
        sock.abort()
        raise
    return sock


async def open_receivers(endpoint: Endpoint, count: int, stats: ClientStats) -> list[BenchSocket]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> BenchSocket | None:
        async with gate:
            try:
                return await open_socket(endpoint, endpoint.receiver_path, stats, receiver=True)
            except (OSError, TimeoutError) as exc:
                stats.errors[f"connect failed ({type(exc).__name__}: {str(exc)[:60]})"] += 1
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [sock for sock in opened if sock is not None]


async def wait_quiet(stats: ClientStats, end: float) -> None:
    """Until the receivers hear nothing for DRAIN_QUIET_S after ``end`` (or DRAIN_MAX_S)."""
    while True:
        now = time.time()
        quiet = now - max(stats.last_delivery, end) >= DRAIN_QUIET_S
        if (now >= end and quiet) or now >= end + DRAIN_MAX_S:
            return
        await asyncio.sleep(0.1)


async def receive(endpoint: Endpoint, count: int, pipe: Connection) -> None:
    stats = ClientStats()
    sockets = await open_receivers(endpoint, count, stats)
    pipe.send(len(sockets))
    schedule: Schedule = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    stats.window = (schedule.window_start, schedule.end)
    await wait_quiet(stats, schedule.end)
    for sock in sockets:
        sock.abort()
    pipe.send(
        ClientReport(
            len(sockets), stats.delivered, stats.delivered_in_window, stats.latency_ms, stats.errors
        )
    )


def receiver_process(endpoint: Endpoint, count: int, pipe: Connection) -> None:
    raise_nofile_limit()
    run_loop(receive(endpoint, count, pipe))


async def publish(endpoint: Endpoint, rate: float, connections: int, pipe: Connection) -> None:
    stats = ClientStats()
    sockets = [
        await open_socket(endpoint, endpoint.publisher_path, stats, receiver=False)
        for _ in range(connections)
    ]
    pipe.send(len(sockets))
    schedule: Schedule = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    report = PublisherReport(errors=stats.errors)
    while (due := schedule.start + report.sent / rate) < schedule.end:
        now = time.time()
        if due > now:
            await asyncio.sleep(due - now)
            continue
        report.max_lag_ms = max(report.max_lag_ms, (now - due) * 1000)
        sockets[report.sent % len(sockets)].send(*publisher_frame(endpoint, report.sent))
        report.sent += 1
        report.sent_in_window += schedule.window_start <= now
    await asyncio.sleep(DRAIN_QUIET_S)
    for sock in sockets:
        sock.abort()
    pipe.send(report)


def publisher_frame(endpoint: Endpoint, seq: int) -> tuple[bytes, int]:
    text = chat_text(seq)
    if endpoint.kind == "socketio":
        return ("42" + json.dumps(["chat", {"text": text}])).encode(), OP_TEXT
    if endpoint.wire == "json":
        return json.dumps({"type": "chat", "text": text}).encode(), OP_TEXT
    return msgpack.packb({"type": "chat", "text": text}, use_bin_type=True), OP_BINARY


def publisher_process(endpoint: Endpoint, rate: float, connections: int, pipe: Connection) -> None:
    raise_nofile_limit()
    run_loop(publish(endpoint, rate, connections, pipe))


# --- Servers under test -----------------------------------------------------------------


def bind_listener() -> socket.socket:
    """A loopback listener on a free port with the backlog of ``livecommerce serve``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


async def serve_socketio(pipe: Connection) -> None:
    import socketio
    from aiohttp import web

    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)
    app = web.Application()
    sio.attach(app)
    posted = 0

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await sio.enter_room(sid, ROOM)

    async def chat(sid: str, data: dict[str, Any]) -> None:
        nonlocal posted
        posted += 1
        now_ms = int(time.time() * 1000)
        frame = {"id": f"{now_ms}-{posted}", "user": "bench", "role": "moderator"}
        await sio.emit("chat", {**frame, "text": data["text"], "ts": now_ms}, room=ROOM)

    sio.on("connect", connect)
    sio.on("chat", chat)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    listener = bind_listener()
    await web.SockSite(runner, listener).start()
    pipe.send(listener.getsockname()[1])
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    await runner.cleanup()


def socketio_server_process(pipe: Connection) -> None:
    raise_nofile_limit()
    run_loop(serve_socketio(pipe))


class Server:
    """A server under test in a child process."""

    endpoint: Endpoint
    pid: int

    def store_pids(self) -> list[int]:
        return []

    def log_tail(self) -> list[str]:
        """The last lines the server wrote to stderr (warnings and errors)."""
        return []

    def stop(self) -> None:
        raise NotImplementedError


class SocketioServer(Server):
    def __init__(self, context: Any) -> None:
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=socketio_server_process, args=(child,))
        self._process.start()
        if not self._pipe.poll(SERVER_START_TIMEOUT_S):
            raise RuntimeError("the socketio server did not start")
        port = self._pipe.recv()
        self.pid = self._process.pid
        path = "/socket.io/?EIO=4&transport=websocket"
        self.endpoint = Endpoint("socketio", port, path, path, "json")

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


class LivecommerceServer(Server):
    """``python -m livecommerce serve`` with its own embedded store in a temporary dir."""

    def __init__(self, wire: str, rate: float, publishers: int) -> None:
        frames = str(max(1000, int(rate * 4 / publishers)))
        self._node = LivecommerceNode(
            {
                "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": frames,
                "LIVECOMMERCE_CHANNEL_FRAMES_BURST": frames,
            }
        )
        self.pid = self._node.pid
        anchor = self._node.token("anchor", "bench-anchor")
        room = self._node.api("POST", "/api/rooms", anchor, {"title": "chat benchmark"})["id"]
        publisher = self._node.token("moderator", "bench")
        path = f"/ws/rooms/{room}?format={wire}"
        self.endpoint = Endpoint(
            "livecommerce", self._node.port, path, f"{path}&token={publisher}", wire
        )

    def log_tail(self) -> list[str]:
        return self._node.log_tail()

    def store_pids(self) -> list[int]:
        return self._node.store_pids()

    def stop(self) -> None:
        self._node.stop()


@dataclass(frozen=True)
class Options:
    clients: int
    rate: float
    duration: float
    warmup: float
    processes: int
    publishers: int
    wire: str
    profile: Path | None
    pin: bool = False


@dataclass
class RunResult:
    kind: Kind
    sockets: int
    rate: float
    window_s: float
    publisher: PublisherReport
    clients: ClientReport
    cpu: dict[str, float]
    hot_functions: list[tuple[str, float]] = field(default_factory=list)

    @property
    def deliveries_per_s(self) -> float:
        return self.clients.delivered_in_window / self.window_s

    @property
    def expected(self) -> int:
        return self.publisher.sent * self.sockets

    def latency(self, quantile: float) -> float:
        histogram = self.clients.latency_ms
        rank, seen = quantile * sum(histogram.values()), 0
        for value in sorted(histogram):
            seen += histogram[value]
            if seen >= rank:
                return value
        return math.nan

    @property
    def undelivered(self) -> int:
        return max(0, self.expected - self.clients.delivered)

    @property
    def server_us_per_delivery(self) -> float:
        if not self.deliveries_per_s:
            return math.nan
        return 10_000 * self.cpu["server"] / self.deliveries_per_s

    def errors(self) -> Counter[str]:
        """Failed connects, error frames, unexpected closes (undelivered messages aside)."""
        return self.clients.errors + self.publisher.errors


def start_server(kind: Kind, options: Options, context: Any) -> Server:
    if kind == "socketio":
        return SocketioServer(context)
    return LivecommerceServer(options.wire, options.rate, options.publishers)


@contextlib.contextmanager
def child_processes(context: Any) -> Iterator[list[tuple[Any, Connection]]]:
    started: list[tuple[Any, Connection]] = []
    try:
        yield started
    finally:
        for process, _ in started:
            process.join(DRAIN_MAX_S + 10)
            if process.is_alive():
                process.kill()
                process.join()


def spawn(context: Any, started: list[Any], target: Callable[..., None], *args: Any) -> Connection:
    parent: Connection
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child), daemon=True)
    process.start()
    started.append((process, parent))
    return parent


def receive_all(pipes: list[Connection], timeout_s: float, what: str) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    results = []
    for pipe in pipes:
        if not pipe.poll(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"timed out waiting for {what}")
        results.append(pipe.recv())
    return results


def merge_client_reports(reports: list[ClientReport]) -> ClientReport:
    merged = ClientReport()
    for report in reports:
        merged.sockets += report.sockets
        merged.delivered += report.delivered
        merged.delivered_in_window += report.delivered_in_window
        merged.latency_ms.update(report.latency_ms)
        merged.errors.update(report.errors)
    return merged


def run_one(kind: Kind, options: Options, context: Any) -> RunResult:
    """Start the server, load it, stop it: the figures of one server."""
    say(f"[{kind}] starting the server")
    server = start_server(kind, options, context)
    try:
        with child_processes(context) as started:
            return drive(server, options, context, started)
    finally:
        server.stop()
        for line in server.log_tail():
            say(f"[{kind}] server: {line}")


def drive(
    server: Server, options: Options, context: Any, started: list[tuple[Any, Connection]]
) -> RunResult:
    """Open the sockets, publish through the window, collect every process's report."""
    endpoint, kind = server.endpoint, server.endpoint.kind
    say(f"[{kind}] opening {options.clients} sockets from {options.processes} processes")
    began = time.monotonic()
    receivers = [
        spawn(context, started, receiver_process, endpoint, count)
        for count in split(options.clients, options.processes)
    ]
    sockets = sum(receive_all(receivers, CONNECT_TIMEOUT_S * 10, "connections"))
    say(f"[{kind}] {sockets} sockets open in {time.monotonic() - began:.1f} s")
    publisher = spawn(
        context, started, publisher_process, endpoint, options.rate, options.publishers
    )
    receive_all([publisher], CONNECT_TIMEOUT_S, "the publisher")
    if options.pin:
        load = [process.pid for process, _ in started]
        say(f"[{kind}] " + pin_apart([server.pid], server.store_pids(), load))
    start = time.time() + 0.5
    schedule = Schedule(start, start + options.warmup, start + options.duration)
    for pipe in [*receivers, publisher]:
        pipe.send(schedule)
    # "clients" counts the publisher process too.
    groups = {"server": [server.pid], "store": server.store_pids()}
    cpu = CpuMeter({**groups, "clients": [process.pid for process, _ in started]})
    profile = measure_window(schedule, cpu, server.pid, kind, options.profile)
    cpu_used = cpu.stop()
    say(f"[{kind}] publishing done; waiting for the receivers to go quiet")
    drain = options.duration + DRAIN_MAX_S + 30
    reports = receive_all(receivers, drain, "client reports")
    published = receive_all([publisher], drain, "the publisher report")[0]
    return RunResult(
        kind,
        sockets,
        options.rate,
        schedule.end - schedule.window_start,
        published,
        merge_client_reports(reports),
        cpu_used,
        hot_functions(profile) if profile is not None else [],
    )


def measure_window(
    schedule: Schedule, cpu: CpuMeter, pid: int, kind: Kind, profile: Path | None
) -> Path | None:
    """Sleep through the window, sampling CPU (and py-spy) from its start to its end."""
    time.sleep(max(0.0, schedule.window_start - time.time()))
    cpu.start()
    spy = None
    output = None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        output = profile / f"{kind}.folded"
        seconds = str(max(1, int(schedule.end - schedule.window_start)))
        command = [py_spy(), "record", "--nonblocking", "-f", "raw", "-d", seconds]
        spy = subprocess.Popen(
            [*command, "-p", str(pid), "-o", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    time.sleep(max(0.0, schedule.end - time.time()))
    if spy is not None:
        spy.wait(30)
    return output


def py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else (shutil.which("py-spy") or "py-spy")


def hot_functions(folded: Path, top: int = 15) -> list[tuple[str, float]]:
    """Functions by share of samples where they are the innermost Python frame."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        for line in folded.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            frame = stack.rsplit(";", 1)[-1]
            counts[re.sub(r":\d+\)$", ")", frame)] += int(samples)
    total = sum(counts.values()) or 1
    return [(name, 100 * n / total) for name, n in counts.most_common(top)]


# --- Report ------------------------------------------------------------------------------

COLUMNS = (
    ("server", "{:<12}"),
    ("sockets", "{:>7}"),
    ("msg/s", "{:>6}"),
    ("target/s", "{:>9}"),
    ("deliv/s", "{:>9}"),
    ("p50 ms", "{:>8}"),
    ("p99 ms", "{:>8}"),
    ("srv CPU%", "{:>8}"),
    ("µs/deliv", "{:>8}"),
    ("store%", "{:>6}"),
    ("clients%", "{:>8}"),
    ("machine%", "{:>8}"),
    ("delivered", "{:>9}"),
    ("errors", "{:>7}"),
)


def row(result: RunResult) -> list[str]:
    delivered = result.clients.delivered / result.expected if result.expected else math.nan
    return [
        result.kind,
        str(result.sockets),
        f"{result.rate:g}",
        f"{result.rate * result.sockets:,.0f}",
        f"{result.deliveries_per_s:,.0f}",
        f"{result.latency(0.50):.1f}",
        f"{result.latency(0.99):.1f}",
        f"{result.cpu['server']:.0f}",
        f"{result.server_us_per_delivery:.1f}",
        f"{result.cpu['store']:.0f}",
        f"{result.cpu['clients']:.0f}",
        f"{result.cpu['machine']:.0f}",
        f"{100 * delivered:.2f}%",
        str(sum(result.errors().values())),
    ]


def report(results: list[RunResult]) -> None:
    say("")
    say("  ".join(fmt.format(name) for name, fmt in COLUMNS))
    for result in results:
        say(
            "  ".join(fmt.format(cell) for (_, fmt), cell in zip(COLUMNS, row(result), strict=True))
        )
    say(
        "(CPU % of one core over the window, µs/deliv = server CPU per delivery; machine% of"
        " all cores, whoever uses them; delivered = share of sent x sockets that arrived)"
    )
    for result in results:
        pub = result.publisher
        say(
            f"{result.kind}: sent {pub.sent} messages ({pub.sent_in_window} in the "
            f"{result.window_s:.0f} s window, publisher max lag {pub.max_lag_ms:.0f} ms); "
            f"latency ms p90 {result.latency(0.9):.1f}, p95 {result.latency(0.95):.1f}, "
            f"p99.9 {result.latency(0.999):.1f}, max {result.latency(1.0):.1f}"
        )
        if result.undelivered:
            say(f"  {result.undelivered:>9}  undelivered when the receivers went quiet")
        for reason, count in result.errors().most_common():
            say(f"  {count:>9}  {reason}")
        if result.hot_functions:
            say(f"  py-spy, innermost frames of {result.kind} over the window:")
            for name, share in result.hot_functions:
                say(f"    {share:5.1f}%  {name}")
    by_kind = {result.kind: result for result in results}
    if set(by_kind) == set(KINDS) and by_kind["socketio"].deliveries_per_s > 0:
        ratio = by_kind["livecommerce"].deliveries_per_s / by_kind["socketio"].deliveries_per_s
        say(f"ratio livecommerce/socketio deliveries/s: {ratio:.2f}x")
        if all(r.deliveries_per_s >= 0.98 * r.rate * r.sockets for r in by_kind.values()):
            say("  (both kept up with the offered load: raise --rate for a capacity ratio)")
        cost = by_kind["socketio"].server_us_per_delivery
        cost /= by_kind["livecommerce"].server_us_per_delivery
        say(f"ratio socketio/livecommerce server CPU per delivery: {cost:.2f}x")


def parse_args(argv: list[str] | None = None) -> tuple[Options, tuple[Kind, ...]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=1000, help="receiving sockets (1000)")
    parser.add_argument("--rate", type=float, default=80.0, help="chat messages/s sent (80)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of publishing (20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured (3)")
    parser.add_argument("--processes", type=int, default=2, help="client processes (2)")
    parser.add_argument("--publishers", type=int, default=1, help="publisher connections (1)")
    parser.add_argument(
        "--format",
        choices=["msgpack", "json"],
        default="msgpack",
        dest="wire",
        help="livecommerce wire format (msgpack)",
    )
    parser.add_argument("--only", choices=KINDS, help="run one server only")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy the server into DIR")
    parser.add_argument(
        "--pin", action="store_true", help="the server alone on CPU 0, the rest on the others"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.processes < 1 or args.publishers < 1 or args.rate <= 0:
        parser.error("--clients, --processes, --publishers and --rate must be positive")
    if not 0 <= args.warmup < args.duration:
        parser.error("--warmup must be shorter than --duration")
    kinds: tuple[Kind, ...] = (args.only,) if args.only else KINDS
    options = Options(
        args.clients,
        args.rate,
        args.duration,
        args.warmup,
        args.processes,
        args.publishers,
        args.wire,
        args.profile,
        args.pin,
    )
    return options, kinds


def main(argv: list[str] | None = None) -> int:
    options, kinds = parse_args(argv)
    limit = raise_nofile_limit()
    say(f"open-files limit {limit}; {psutil.cpu_count()} CPUs")
    context = mp.get_context("spawn")
    results = [run_one(kind, options, context) for kind in kinds]
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
