"""One big room: thousands of sockets on one node (and on two sharing the store) while
viewers chat faster than the per-viewer budget.

Run from the repository root, with the ``bench`` extra installed::

    .venv/bin/python scripts/bench_megaroom.py                 # every run below
    .venv/bin/python scripts/bench_megaroom.py --clients 10000 --rate 100 --duration 15
    .venv/bin/python scripts/bench_megaroom.py --runs mega,mega2x,two-nodes
    .venv/bin/python scripts/bench_megaroom.py --runs mega --pin   # the node on a core of its own

Each run starts ``livecommerce serve`` (its own embedded store; a second node
shares it), opens the receiving sockets (anonymous viewers, msgpack) from
``--processes`` client processes, then publishes *viewer* chat (signed-in
viewers, so it may be sampled) at the run's rate from ``--publishers``
sockets, plus ``--staff-rate`` moderator lines/s (never sampled: every
socket must get every one). Runs, all in the same invocation:

* ``ticks``: the baseline before #18: writes joined per event-loop tick, no
  sampling (``channel.write_delay_ms = 0``, ``sampling_chat_rate = 0``),
  ``--small-clients`` sockets at ``--small-rate`` (bench_chat's default load);
* ``windows``: the same load with write windows (default 20 ms), no sampling:
  the ratio of the two is what coalescing saves per delivery;
* ``mega``: ``--clients`` sockets at ``--rate`` viewer lines/s, default
  settings (sampling above 40 lines/s, 10 lines/s per viewer);
* ``mega2x``: the same at twice the rate: server CPU per viewer should not move;
* ``two-nodes``: ``mega`` over two nodes sharing one store, the sockets split.

Reported per run: sockets, chat lines/s sent, deliveries per viewer per
second, all deliveries/s, server CPU (all nodes) in µs per delivery and in
% of a core, p50/p99 latency (the send time travels in the chat text), the
store's commands/s (``INFO stats`` before and after the window) and the room
events it published/s (``posted/s``: the chat lines the node really took,
which a starved machine may keep under the rate asked for), staff lines
each socket got out of those sent (must be all) and their p50/p99 latency
(staff lines come from one socket at a low rate, so they never wait behind a
backlog of posts: they show the fan-out's own delay), and errors (failed
connects, close codes such as 4408, error frames). On a shared machine,
compare runs of one invocation: the ratios are what the script prints last.

``--pin`` keeps the nodes alone on CPU 0 and their store, the client processes
(at nice 10) and this script on the other CPUs, as if the viewers ran on
other machines: on a 2-core machine they otherwise take the node's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import redis
from bench_chat import (
    CONNECT_TIMEOUT_S,
    DRAIN_MAX_S,
    DRAIN_QUIET_S,
    BenchSocket,
    ClientStats,
    Endpoint,
    Schedule,
    open_receivers,
    open_socket,
    publisher_frame,
    wait_quiet,
)
from benchkit import (
    CpuMeter,
    LivecommerceNode,
    bucket_ms,
    percentile,
    pin_apart,
    raise_nofile_limit,
    run_loop,
    say,
    split,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STAFF_MARK = b"\xa9moderator"  # msgpack: the 9-byte string "moderator" (a role value)
TIME_MARK = b'{"t":'  # where the send time starts in a chat text (after the role)
RUNS = ("ticks", "windows", "mega", "mega2x", "two-nodes")


class MegaSocket(BenchSocket):
    """A receiver that also counts staff lines by their role's bytes."""

    staff = 0
    staff_latency_ms: Counter[float]

    def data_received(self, data: bytes) -> None:
        if self._counting:
            chunk = self._staff_tail + data
            found = chunk.count(STAFF_MARK)
            if found:
                self.staff += found
                self._staff_sample(chunk)
            self._staff_tail = chunk[-(len(STAFF_MARK) - 1) :]
        super().data_received(data)

    def _staff_sample(self, chunk: bytes) -> None:
        """The latency of the read's last staff line: a line that never waits behind the
        viewers' backlog (one socket at a low rate), so it shows the fan-out's delay."""
        at = chunk.find(TIME_MARK, chunk.rfind(STAFF_MARK))
        end = chunk.find(b",", at) if at >= 0 else -1
        if end < 0:
            return
        with contextlib.suppress(ValueError):
            ms = (time.time() - float(chunk[at + len(TIME_MARK) : end])) * 1000
            self.staff_latency_ms[bucket_ms(ms)] += 1

    _staff_tail = b""


@dataclass
class Report:
    sockets: int = 0
    delivered_in_window: int = 0
    latency_ms: Counter[float] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    staff_min: int = 0
    staff_max: int = 0
    staff_latency_ms: Counter[float] = field(default_factory=Counter)


async def listen(endpoint: Endpoint, count: int, pipe: Connection) -> None:
    import bench_chat

    bench_chat.BenchSocket = MegaSocket  # type: ignore[misc]  # what open_socket builds
    stats = ClientStats()
    sockets: list[Any] = await open_receivers(endpoint, count, stats)
    staff_latency: Counter[float] = Counter()
    for sock in sockets:
        sock.staff_latency_ms = staff_latency
    pipe.send(len(sockets))
    schedule: Schedule = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    stats.window = (schedule.window_start, schedule.end)
    await wait_quiet(stats, schedule.end)
    staff = [sock.staff for sock in sockets] or [0]
    for sock in sockets:
        sock.abort()
    pipe.send(
        Report(
            len(sockets),
            stats.delivered_in_window,
            stats.latency_ms,
            stats.errors,
            min(staff),
            max(staff),
            staff_latency,
        )
    )


def receiver_process(endpoint: Endpoint, count: int, pipe: Connection) -> None:
    raise_nofile_limit()
    run_loop(listen(endpoint, count, pipe))


async def publish(
    endpoints: list[Endpoint], staff: Endpoint, rate: float, staff_rate: float, pipe: Connection
) -> None:
    stats = ClientStats()
    viewers = [await open_socket(e, e.publisher_path, stats, receiver=False) for e in endpoints]
    moderator = await open_socket(staff, staff.publisher_path, stats, receiver=False)
    pipe.send(len(viewers))
    schedule: Schedule = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

    async def send(sockets: list[Any], per_s: float) -> int:
        sent = 0
        while (due := schedule.start + sent / per_s) < schedule.end:
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            sockets[sent % len(sockets)].send(*publisher_frame(staff, sent))
            sent += 1
        return sent

    sent, staff_sent = await asyncio.gather(send(viewers, rate), send([moderator], staff_rate))
    await asyncio.sleep(DRAIN_QUIET_S)
    for sock in [*viewers, moderator]:
        sock.abort()
    pipe.send((sent, staff_sent, stats.errors))


def publisher_process(
    endpoints: list[Endpoint], staff: Endpoint, rate: float, staff_rate: float, pipe: Connection
) -> None:
    raise_nofile_limit()
    run_loop(publish(endpoints, staff, rate, staff_rate, pipe))


@dataclass(frozen=True)
class Run:
    name: str
    nodes: int
    clients: int
    rate: float
    env: dict[str, str]


@dataclass
class Result:
    run: Run
    sockets: int
    window_s: float
    sent: int
    staff_sent: int
    report: Report
    server_cpu: float  # % of one core, all nodes
    store_calls_per_s: float
    events_per_s: float  # room events the store published (chat lines posted, mostly)
    errors: Counter[str]

    @property
    def deliveries_per_s(self) -> float:
        return self.report.delivered_in_window / self.window_s

    @property
    def per_viewer(self) -> float:
        return self.deliveries_per_s / max(1, self.sockets)

    @property
    def us_per_delivery(self) -> float:
        return 10_000 * self.server_cpu / self.deliveries_per_s if self.deliveries_per_s else 0

    def latency(self, quantile: float) -> float:
        histogram = self.report.latency_ms
        rank, seen = quantile * sum(histogram.values()), 0
        for value in sorted(histogram):
            seen += histogram[value]
            if seen >= rank:
                return value
        return math.nan


def start_nodes(run: Run, publishers: int) -> tuple[list[LivecommerceNode], list[Endpoint], Any]:
    limits = {
        "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": "10000",
        "LIVECOMMERCE_CHANNEL_FRAMES_BURST": "10000",
        "LIVECOMMERCE_CHANNEL_CHAT_PER_S": "10000",
        "LIVECOMMERCE_CHANNEL_CHAT_BURST": "10000",
        # Receivers stop answering pings once counting (as bench_chat's do), and opening
        # 10,000 sockets on a busy machine takes minutes: no heartbeat may end them.
        "LIVECOMMERCE_CHANNEL_HEARTBEAT_S": "3600",
    }
    first = LivecommerceNode({**limits, **run.env})
    nodes = [first]
    for _ in range(run.nodes - 1):
        nodes.append(LivecommerceNode({**limits, **run.env}, first.store_url, first.secret))
    anchor = first.token("anchor", "bench-anchor")
    room = first.api("POST", "/api/rooms", anchor, {"title": "megaroom"})["id"]
    path = f"/ws/rooms/{room}?format=msgpack"
    tokens = [first.token("viewer", f"bench-viewer-{i}") for i in range(publishers)]
    endpoints = [
        Endpoint("livecommerce", nodes[i % len(nodes)].port, path, f"{path}&token={t}", "msgpack")
        for i, t in enumerate(tokens)
    ]
    staff = Endpoint(
        "livecommerce",
        first.port,
        path,
        f"{path}&token={first.token('moderator', 'bench-mod')}",
        "msgpack",
    )
    return nodes, endpoints, staff


def commands_processed(client: Any) -> tuple[int, int]:
    """Commands the store ran (those inside scripts too), and SPUBLISH calls among them
    (one per room event: what the node really posted, whatever the publisher sent)."""
    published = client.info("commandstats").get("cmdstat_spublish", {}).get("calls", 0)
    return int(client.info("stats")["total_commands_processed"]), int(published)


def run_one(run: Run, options: argparse.Namespace, context: Any) -> Result:
    say(f"[{run.name}] {run.nodes} node(s), {run.clients} sockets, {run.rate:g} lines/s")
    nodes, endpoints, staff = start_nodes(run, options.publishers)
    started: list[Any] = []
    store = redis.Redis.from_url(nodes[0].store_url)
    try:
        pipes = []
        for index, count in enumerate(split(run.clients, options.processes)):
            parent, child = context.Pipe()
            node_endpoint = endpoints[index % len(nodes)]
            process = context.Process(
                target=receiver_process, args=(node_endpoint, count, child), daemon=True
            )
            process.start()
            started.append(process)
            pipes.append(parent)
        sockets = sum(answer(pipe, CONNECT_TIMEOUT_S * 10) for pipe in pipes)
        say(f"[{run.name}] {sockets} sockets open")
        parent, child = context.Pipe()
        publisher = context.Process(
            target=publisher_process,
            args=(endpoints, staff, run.rate, options.staff_rate, child),
            daemon=True,
        )
        publisher.start()
        started.append(publisher)
        answer(parent, CONNECT_TIMEOUT_S)
        if options.pin:
            stores = [pid for node in nodes for pid in node.store_pids()]
            load = [process.pid for process in started]
            say(f"[{run.name}] " + pin_apart([node.pid for node in nodes], stores, load))
        start = time.time() + 0.5
        schedule = Schedule(start, start + options.warmup, start + options.duration)
        for pipe in [*pipes, parent]:
            pipe.send(schedule)
        cpu = CpuMeter({"server": [node.pid for node in nodes]})
        time.sleep(max(0.0, schedule.window_start - time.time()))
        cpu.start()
        calls_before, published_before = commands_processed(store)
        time.sleep(max(0.0, schedule.end - time.time()))
        calls_after, published_after = commands_processed(store)
        calls, published = calls_after - calls_before, published_after - published_before
        used = cpu.stop()
        window = schedule.end - schedule.window_start
        drain = options.duration + DRAIN_MAX_S + 30
        reports: list[Report] = [answer(pipe, drain) for pipe in pipes]
        sent, staff_sent, publisher_errors = answer(parent, drain)
        merged = Report(
            staff_min=min(r.staff_min for r in reports),
            staff_max=max(r.staff_max for r in reports),
        )
        for report in reports:
            merged.sockets += report.sockets
            merged.delivered_in_window += report.delivered_in_window
            merged.latency_ms.update(report.latency_ms)
            merged.staff_latency_ms.update(report.staff_latency_ms)
            merged.errors.update(report.errors)
        return Result(
            run,
            sockets,
            window,
            sent,
            staff_sent,
            merged,
            used["server"],
            calls / window,
            published / window,
            merged.errors + publisher_errors,
        )
    finally:
        store.close()
        for process in started:
            process.join(DRAIN_MAX_S + 10)
            if process.is_alive():
                process.kill()
        for node in nodes:
            for line in node.log_tail():
                say(f"[{run.name}] server: {line}")
            node.stop()


def answer(pipe: Connection, timeout_s: float) -> Any:
    if not pipe.poll(timeout_s):
        raise RuntimeError("a child process did not answer in time")
    return pipe.recv()


def runs(options: argparse.Namespace) -> list[Run]:
    before = {
        "LIVECOMMERCE_CHANNEL_WRITE_DELAY_MS": "0",
        "LIVECOMMERCE_CHANNEL_SAMPLING_CHAT_RATE": "0",
    }
    unsampled = {"LIVECOMMERCE_CHANNEL_SAMPLING_CHAT_RATE": "0"}
    small, big = options.small_clients, options.clients
    table = {
        "ticks": Run("ticks", 1, small, options.small_rate, before),
        "windows": Run("windows", 1, small, options.small_rate, unsampled),
        "mega": Run("mega", 1, big, options.rate, {}),
        "mega2x": Run("mega2x", 1, big, 2 * options.rate, {}),
        "two-nodes": Run("two-nodes", 2, big, options.rate, {}),
    }
    chosen = [table[name] for name in options.runs.split(",")]
    extra = dict(setting(item) for item in options.set)
    return [Run(r.name, r.nodes, r.clients, r.rate, {**r.env, **extra}) for r in chosen]


def setting(item: str) -> tuple[str, str]:
    """``channel_viewer_chat_rate=5`` as the node's environment variable and value."""
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise SystemExit(f"--set wants SECTION_KEY=VALUE, not {item!r}")
    return f"LIVECOMMERCE_{name.upper()}", value


def report(results: list[Result]) -> None:
    say("")
    say(
        f"{'run':10} {'nodes':>5} {'sockets':>7} {'lines/s':>7} {'posted/s':>8} "
        f"{'per viewer/s':>12} {'deliveries/s':>12} {'µs/deliv':>8} {'server %':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} "
        f"{'store/s':>8} {'staff got':>11} {'staff p50/p99 ms':>17}"
    )
    for r in results:
        staff = f"{r.report.staff_min}/{r.staff_sent}"
        histogram = r.report.staff_latency_ms
        staff_latency = f"{percentile(histogram, 0.5):.0f}/{percentile(histogram, 0.99):.0f}"
        say(
            f"{r.run.name:10} {r.run.nodes:>5} {r.sockets:>7} {r.run.rate:>7.0f} "
            f"{r.events_per_s:>8.0f} "
            f"{r.per_viewer:>12.1f} {r.deliveries_per_s:>12,.0f} {r.us_per_delivery:>8.2f} "
            f"{r.server_cpu:>8.0f} {r.latency(0.5):>7.1f} {r.latency(0.99):>7.1f} "
            f"{r.store_calls_per_s:>8.0f} {staff:>11} {staff_latency:>17}"
        )
        for error, count in r.errors.most_common(5):
            say(f"{'':10} error: {count} x {error}")
    by_name = {r.run.name: r for r in results}
    say("")
    if "ticks" in by_name and "windows" in by_name:
        ratio = by_name["ticks"].us_per_delivery / max(by_name["windows"].us_per_delivery, 1e-9)
        say(f"write windows: {ratio:.2f}x less server CPU per delivery than per-tick writes")
    if "mega" in by_name and "mega2x" in by_name:
        one, two = by_name["mega"], by_name["mega2x"]
        ratio = (two.server_cpu / max(two.sockets, 1)) / (one.server_cpu / max(one.sockets, 1))
        say(f"twice the chat rate: {ratio:.2f}x the server CPU per viewer (1.00 = independent)")
    if "mega" in by_name and "two-nodes" in by_name:
        one, two = by_name["mega"], by_name["two-nodes"]
        say(
            f"two nodes: {two.server_cpu / max(one.server_cpu, 1e-9):.2f}x the CPU of one "
            f"(both nodes get every line from the store), store calls/s "
            f"{one.store_calls_per_s:.0f} → {two.store_calls_per_s:.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=10_000, help="sockets, big runs")
    parser.add_argument("--rate", type=float, default=100.0, help="viewer lines/s, big runs")
    parser.add_argument("--small-clients", type=int, default=1000)
    parser.add_argument("--small-rate", type=float, default=80.0)
    parser.add_argument("--staff-rate", type=float, default=2.0, help="moderator lines/s")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument(
        "--publishers", type=int, default=20, help="chatting viewers (each posts in turn)"
    )
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION_KEY=VALUE",
        help="a node setting for every run, e.g. channel_viewer_chat_rate=5 (repeatable)",
    )
    parser.add_argument(
        "--pin", action="store_true", help="each node alone on CPU 0, the rest on the others"
    )
    options = parser.parse_args()
    raise_nofile_limit()
    context = mp.get_context("spawn")
    results = []
    for run in runs(options):
        with contextlib.suppress(KeyboardInterrupt):
            results.append(run_one(run, options, context))
    report(results)


if __name__ == "__main__":
    main()
