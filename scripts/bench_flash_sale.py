"""Flash-sale benchmark: buys end to end over WebSocket against the store's ceiling.

Run from the repository root, with the ``bench`` extra installed::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python scripts/bench_flash_sale.py
    .venv/bin/python scripts/bench_flash_sale.py --buyers 4000 --duration 10 --processes 2

One run, three measurements, same machine:

1. **Burst**: ``--buyers`` viewers (distinct users, one WebSocket each, from
   ``--processes`` client processes) press "buy" at the same instant on a sale
   of ``--stock`` units with a per-user limit of 1. Measured: time from the
   press to each ``buy_result`` (p50/p99/max), how many got a reservation
   (must equal the stock), the sale's stock afterwards (must be 0).
2. **Throughput**: the same buyers buy in a closed loop (each sends its next
   buy when the last one is answered) for ``--duration`` seconds on a sale too
   large to sell out. Measured: purchases per second and latency percentiles
   over the window after ``--warmup``; stock sold must equal the answers.
3. **Store ceiling**: the same ``sales_reserve.lua`` with the same keys,
   called directly through redis-py in pipelines of ``--pipeline`` calls,
   ``--concurrency`` pipelines in flight, for ``--duration`` seconds, against
   the node's own embedded store (AOF fsync ``always``, as served).

Phases 1 and 2 run against a node with ``commerce.batch_buys`` on (the buys of
one event-loop tick go to the store as one pipeline) and, unless
``--skip-unbatched``, against a node with it off (one round trip per buy).
The report ends with the ratio of end-to-end purchases/s to the ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import msgpack
import redis.asyncio as aioredis
from benchkit import (
    HOST,
    CpuMeter,
    LivecommerceNode,
    RawWebSocket,
    bucket_ms,
    handshake_request,
    percentile,
    raise_nofile_limit,
    run_loop,
    say,
    split,
)

from livecommerce.auth import Role, issue_token
from livecommerce.commerce.orders import reserve_call
from livecommerce.config import DiscoverySettings
from livecommerce.metrics import Metrics
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner

CONNECT_CONCURRENCY = 64
CONNECT_TIMEOUT_S = 120.0
ANSWER_TIMEOUT_S = 30.0
BIG_STOCK = 1_000_000


@dataclass(frozen=True)
class Endpoint:
    port: int
    room: str
    secret: str


@dataclass
class Report:
    """What one client process saw."""

    sockets: int = 0
    sent: int = 0
    answered: int = 0  # a buy_result, or an error frame while the buyer's buy was open
    answered_in_window: int = 0  # buy_results only: the purchases/s
    reserved: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)  # error codes that answered a buy
    latency_ms: Counter[float] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Report) -> None:
        self.sockets += other.sockets
        self.sent += other.sent
        self.answered += other.answered
        self.answered_in_window += other.answered_in_window
        self.reserved += other.reserved
        self.reasons.update(other.reasons)
        self.failed.update(other.failed)
        self.latency_ms.update(other.latency_ms)
        self.errors.update(other.errors)


class BuyerSocket(RawWebSocket):
    """One buyer: sends ``buy`` frames, one at a time, and times each ``buy_result``. An
    ``error`` frame while a buy is open (the server could not do it, e.g.
    ``store_unavailable``) answers that buy: counted apart, and the loop goes on."""

    def __init__(self, request: bytes, report: Report, sale: str = "") -> None:
        super().__init__(request, report.errors)
        self.report = report
        self.sale = sale
        self.window = (0.0, 0.0)
        self.loop_until = 0.0
        self.answered = asyncio.get_running_loop().create_future()
        self._seq = 0
        self._sent_at = 0.0
        self._open = False

    def buy(self) -> None:
        self._open = True
        self._seq += 1
        frame = {"type": "buy", "sale": self.sale, "qty": 1, "key": f"k{self._seq}"}
        self._sent_at = time.time()
        self.report.sent += 1
        self.send(msgpack.packb(frame), 0x2)

    def on_message(self, payload: bytes, opcode: int, now: float) -> None:
        message = msgpack.unpackb(payload, raw=False)
        kind = message["type"]
        if kind == "buy_result":
            self._answer(message, now)
        elif kind == "welcome":
            self.set_ready()
        elif kind == "error" and self._open:
            self.report.failed[str(message.get("code"))] += 1
            self._next(now)
        elif kind == "error":
            self.report.errors[f"error frame {message.get('code')}"] += 1

    def _answer(self, message: dict[str, Any], now: float) -> None:
        report = self.report
        if message["ok"]:
            report.reserved += 1
        else:
            report.reasons[str(message.get("reason"))] += 1
        start, end = self.window
        if start <= self._sent_at < end:
            report.answered_in_window += 1
            report.latency_ms[bucket_ms((now - self._sent_at) * 1000)] += 1
        self._next(now)

    def _next(self, now: float) -> None:
        self._open = False
        self.report.answered += 1
        if now < self.loop_until:
            self.buy()
        elif not self.answered.done():
            self.answered.set_result(None)


async def open_buyers(endpoint: Endpoint, users: range, report: Report) -> list[BuyerSocket]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(user: int) -> BuyerSocket:
        token = issue_token(endpoint.secret, Role.viewer, f"buyer{user}", ttl_s=3600)
        path = f"/ws/rooms/{endpoint.room}?format=msgpack&token={token}"
        request = handshake_request(path, endpoint.port)
        async with gate:
            _, socket = await loop.create_connection(
                lambda: BuyerSocket(request, report), HOST, endpoint.port
            )
            await asyncio.wait_for(socket.ready, CONNECT_TIMEOUT_S)
        return socket

    sockets = await asyncio.gather(*(open_one(user) for user in users))
    report.sockets = len(sockets)
    return list(sockets)


async def wait_answers(sockets: list[BuyerSocket], report: Report) -> None:
    pending = [socket.answered for socket in sockets]
    _, missing = await asyncio.wait(pending, timeout=ANSWER_TIMEOUT_S)
    if missing:
        report.errors[f"{len(missing)} buyers never answered"] += len(missing)


async def buy(endpoint: Endpoint, users: range, pipe: Connection) -> None:
    """Open the buyers, then run each phase the parent sends: (sale, start, window, end)."""
    report = Report()
    sockets = await open_buyers(endpoint, users, report)
    pipe.send(len(sockets))
    loop = asyncio.get_running_loop()
    while True:
        phase = await loop.run_in_executor(None, pipe.recv)
        if phase is None:
            break
        sale, start, window, end = phase
        report = Report(sockets=len(sockets))
        for socket in sockets:
            socket.report, socket.errors, socket.sale = report, report.errors, sale
            socket.window, socket.loop_until = window, end
            socket.answered = loop.create_future()
        await asyncio.sleep(max(0.0, start - time.time()))
        for socket in sockets:
            socket.buy()
        await asyncio.sleep(max(0.0, end - time.time()))
        await wait_answers(sockets, report)
        pipe.send(report)
    for socket in sockets:
        socket.abort()


def buyer_process(endpoint: Endpoint, users: range, pipe: Connection) -> None:
    raise_nofile_limit()
    run_loop(buy(endpoint, users, pipe))


# --- The node under test ---------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    report: Report
    window_s: float
    sale: dict[str, Any]
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.report.answered_in_window / self.window_s


class SaleNode:
    """A node with a room, a product and sales created through the API."""

    def __init__(self, batch_buys: bool, buyers: int) -> None:
        frames = str(1_000_000)
        self.node = LivecommerceNode(
            {
                "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": frames,
                "LIVECOMMERCE_CHANNEL_FRAMES_BURST": frames,
                "LIVECOMMERCE_COMMERCE_BATCH_BUYS": "true" if batch_buys else "false",
                "LIVECOMMERCE_STORE_MAX_CONNECTIONS": str(max(128, buyers // 8)),
            }
        )
        self.anchor = self.node.token("anchor", "bench-anchor")
        self.room = self.node.api("POST", "/api/rooms", self.anchor, {"title": "flash sale"})["id"]
        product = {"sku": "B-1", "title": "Bench tea", "price_cents": 990, "currency": "EUR"}
        self.product = self.node.api(
            "POST", f"/api/rooms/{self.room}/products", self.anchor, product
        )["id"]
        self.endpoint = Endpoint(self.node.port, self.room, self.node.secret)

    def new_sale(self, quantity: int, per_user_limit: int) -> str:
        body = {
            "product_id": self.product,
            "price_cents": 500,
            "quantity": quantity,
            "per_user_limit": per_user_limit,
            "duration_s": 3600,
            "reservation_ttl_s": 3600,
        }
        return str(self.node.api("POST", f"/api/rooms/{self.room}/sales", self.anchor, body)["id"])

    def sale(self, sale_id: str) -> dict[str, Any]:
        return dict(self.node.api("GET", f"/api/rooms/{self.room}/sales/{sale_id}", self.anchor))


@dataclass(frozen=True)
class Options:
    buyers: int
    stock: int
    processes: int
    duration: float
    warmup: float
    pipeline: int
    concurrency: int
    unbatched: bool
    batched: bool = True


def run_phase(
    node: SaleNode,
    pipes: list[Connection],
    pids: list[int],
    name: str,
    sale_id: str,
    loop_s: float,
    warmup: float,
) -> PhaseResult:
    start = time.time() + 0.5
    window = (start + warmup, start + loop_s) if loop_s else (0.0, float("inf"))
    end = start + loop_s
    cpu = CpuMeter({"server": [node.node.pid], "store": node.node.store_pids(), "clients": pids})
    for pipe in pipes:
        pipe.send((sale_id, start, window, end))
    time.sleep(max(0.0, window[0] - time.time()) if loop_s else 0.0)
    cpu.start()
    report = Report()
    for pipe in pipes:
        if not pipe.poll(loop_s + ANSWER_TIMEOUT_S + 30):
            raise RuntimeError(f"{name}: a client process did not report")
        report.merge(pipe.recv())
    used = cpu.stop()
    window_s = (window[1] - window[0]) if loop_s else 1.0
    return PhaseResult(name, report, window_s, node.sale(sale_id), used)


def run_node(options: Options, batch_buys: bool, context: Any) -> tuple[list[PhaseResult], float]:
    """Burst and throughput against one node; the store ceiling too when batching."""
    label = "batched" if batch_buys else "unbatched"
    say(f"[{label}] starting a node")
    node = SaleNode(batch_buys, options.buyers)
    processes: list[Any] = []
    pipes: list[Connection] = []
    try:
        began = time.monotonic()
        first = 0
        for count in split(options.buyers, options.processes):
            parent, child = context.Pipe()
            users = range(first, first + count)
            process = context.Process(
                target=buyer_process, args=(node.endpoint, users, child), daemon=True
            )
            process.start()
            processes.append(process)
            pipes.append(parent)
            first += count
        opened = sum(pipe.recv() for pipe in pipes)
        say(f"[{label}] {opened} buyers connected in {time.monotonic() - began:.1f} s")
        pids = [process.pid for process in processes]
        burst_sale = node.new_sale(options.stock, 1)
        burst = run_phase(node, pipes, pids, f"{label} burst", burst_sale, 0.0, 0.0)
        loop_sale = node.new_sale(BIG_STOCK, BIG_STOCK)
        loop = run_phase(
            node, pipes, pids, f"{label} loop", loop_sale, options.duration, options.warmup
        )
        for pipe in pipes:
            pipe.send(None)
        ceiling = 0.0
        if batch_buys:
            say(f"[{label}] store ceiling: the reserve script pipelined through redis-py")
            ceiling = run_loop(store_ceiling(node, options))
        return [burst, loop], ceiling
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        node.node.stop()


async def store_ceiling(node: SaleNode, options: Options) -> float:
    """Reservations per second of ``sales_reserve.lua`` pipelined straight to the store."""
    sale_id = node.new_sale(BIG_STOCK, BIG_STOCK)
    client = aioredis.from_url(node.node.store_url)
    scripts = ScriptRunner(client, metrics=Metrics())
    await scripts.load("sales_reserve")
    sha = scripts.script("sales_reserve").sha
    keys, discovery = Keys("lc:"), DiscoverySettings()
    stop_at = time.monotonic() + options.warmup + options.duration
    counted_from = time.monotonic() + options.warmup
    reserved = 0
    sequence = iter(range(10**9))

    async def worker() -> None:
        nonlocal reserved
        while time.monotonic() < stop_at:
            pipe = client.pipeline(transaction=False)
            for _ in range(options.pipeline):
                n = next(sequence)
                call_keys, args = reserve_call(
                    keys, discovery, node.room, sale_id, f"c{n % 5000}", 1, f"k{n}"
                )
                pipe.evalsha(sha, len(call_keys), *call_keys, *args)
            answers = await pipe.execute()
            if time.monotonic() >= counted_from:
                reserved += sum(1 for answer in answers if answer[0] == b"new")

    try:
        await asyncio.gather(*(worker() for _ in range(options.concurrency)))
    finally:
        await client.aclose()
    return reserved / options.duration


# --- Report ------------------------------------------------------------------------------


def check_exact(result: PhaseResult, expected_reserved: int | None) -> list[str]:
    """Every way the stock could be wrong."""
    sale, report = result.sale, result.report
    problems = []
    sold = int(sale["reserved"]) + int(sale["sold"])
    if sold != report.reserved:
        problems.append(f"store says {sold} reserved, buyers got {report.reserved}")
    if int(sale["left"]) < 0:
        problems.append(f"stock went negative: {sale['left']}")
    if expected_reserved is not None and report.reserved != expected_reserved:
        problems.append(f"expected exactly {expected_reserved} reservations")
    if report.answered != report.sent:
        problems.append(f"{report.sent - report.answered} buys never answered")
    if report.failed:
        problems.append(f"buys answered with an error frame: {dict(report.failed)}")
    return problems


def describe(result: PhaseResult, burst: bool, expected: int | None) -> None:
    report, lat = result.report, result.report.latency_ms
    p50, p99, worst = percentile(lat, 0.5), percentile(lat, 0.99), max(lat, default=0.0)
    say(f"  {result.name}: {report.sockets} buyers, {report.sent} buys sent")
    say(
        f"    answered {report.answered} ({sum(report.failed.values())} with an error frame "
        f"{dict(report.failed)}); unanswered {report.sent - report.answered}"
    )
    if burst:
        say(
            f"    reserved {report.reserved}; "
            f"refused {dict(report.reasons)}; stock left {result.sale['left']}"
        )
        say(f"    latency ms p50 {p50:.1f}  p99 {p99:.1f}  max {worst:.1f} (all answered by then)")
    else:
        say(
            f"    {result.rate:,.0f} purchases/s over {result.window_s:.1f} s; "
            f"latency ms p50 {p50:.1f}  p99 {p99:.1f}  max {worst:.1f}"
        )
    cpu = result.cpu
    say(
        f"    CPU % of a core: server {cpu['server']:.0f}, store {cpu['store']:.0f}, "
        f"clients {cpu['clients']:.0f}; machine {cpu['machine']:.0f} % of all cores"
    )
    problems = check_exact(result, expected)
    if report.errors:
        problems.append(f"errors {dict(report.errors)}")
    say("    exact stock: " + ("yes" if not problems else "NO: " + "; ".join(problems)))


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=2000, help="WebSocket buyers (default 2000)")
    parser.add_argument("--stock", type=int, default=500, help="units in the burst sale")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of closed loop")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not counted")
    parser.add_argument("--pipeline", type=int, default=256, help="calls per ceiling pipeline")
    parser.add_argument("--concurrency", type=int, default=4, help="ceiling pipelines in flight")
    parser.add_argument(
        "--skip-unbatched", action="store_true", help="do not measure one round trip per buy"
    )
    parser.add_argument(
        "--skip-batched",
        action="store_true",
        help="measure only one round trip per buy (no batched node, no store ceiling)",
    )
    args = parser.parse_args(argv)
    if args.skip_batched and args.skip_unbatched:
        parser.error("--skip-batched and --skip-unbatched leave nothing to measure")
    return Options(
        args.buyers,
        args.stock,
        args.processes,
        args.duration,
        args.warmup,
        args.pipeline,
        args.concurrency,
        not args.skip_unbatched,
        not args.skip_batched,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    limit = raise_nofile_limit()
    say(f"open-files limit {limit}; {os.cpu_count()} CPUs")
    context = mp.get_context("spawn")
    results: list[PhaseResult] = []
    ceiling = 0.0
    if options.batched:
        results, ceiling = run_node(options, True, context)
    if options.unbatched:
        unbatched, _ = run_node(options, False, context)
        results += unbatched
    say("")
    for result in results:
        burst = result.name.endswith("burst")
        describe(result, burst, options.stock if burst else None)
    if options.batched:
        say(f"  store ceiling: {ceiling:,.0f} reservations/s (pipelines of {options.pipeline}, ")
        say(f"    {options.concurrency} in flight, redis-py, same script and keys)")
        batched_loop = results[1]
        say(f"ratio end to end (batched) / store ceiling: {batched_loop.rate / ceiling:.2f}")
        if options.unbatched:
            ratio = batched_loop.rate / results[3].rate
            say(f"ratio batched / unbatched purchases/s: {ratio:.2f}x")
    # Both paths must answer every buy with exact stock; one call per buy is slower only.
    exact = all(
        not check_exact(r, options.stock if r.name.endswith("burst") else None) for r in results
    )
    return 0 if exact else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
