"""Selling-formats benchmark: bids and voucher claims end to end over WebSocket, beside the
store's ceiling for the same scripts.

Run from the repository root, with the ``bench`` extra installed::

    .venv/bin/python scripts/bench_formats.py
    .venv/bin/python scripts/bench_formats.py --bidders 4000 --duration 10 --processes 2
    .venv/bin/python scripts/bench_formats.py --burst-only --pin   # the node on a core of its own

One node (its own embedded store), ``--bidders`` viewers (distinct users, one WebSocket
each, from ``--processes`` client processes). Measured, in one run:

1. **Bid burst**: every viewer bids on one auction at the same instant (distinct
   amounts 50.00 apart, so the highest bid must win). Measured: time from the press to
   each ``bid_result`` (p50/p99/max; the issue's target is p99 ≤ 150 ms at 2,000
   bidders), then the anchor closes the auction: exactly one winner, the highest
   accepted bid.
2. **Bids/s**: the same viewers bid in a closed loop (each sends its next bid when the
   last is answered) for ``--duration`` seconds; every answer is one run of
   ``auctions_bid.lua``.
3. **Claims/s**: the same, claiming a voucher too large to run out.
4. **Store ceiling**: ``auctions_bid.lua`` and ``vouchers_claim.lua`` with the same keys,
   called directly through redis-py in pipelines of ``--pipeline`` calls,
   ``--concurrency`` pipelines in flight, against the node's own store.

``--pin`` keeps the node alone on CPU 0 and its store, the client processes (at nice 10,
behind the store) and this script on the other CPUs, as if the bidders ran on other
machines: on a 2-core machine the load generators otherwise take the node's CPU.

The report ends with the ratios of end-to-end rates to the ceilings. Figures on a
shared machine are provisional; the ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
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
    pin_apart,
    raise_nofile_limit,
    run_loop,
    say,
    split,
)

from livecommerce.auth import Role, issue_token
from livecommerce.config_sections import AnalyticsSettings
from livecommerce.metrics import Metrics
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner

CONNECT_CONCURRENCY = 64
CONNECT_TIMEOUT_S = 120.0
ANSWER_TIMEOUT_S = 30.0
SPACING = 5000
# The scripts' analytics argument as the node passes it (analytics on, the default exact
# set limit), so the ceiling runs the same script work as the node's calls.
COUNTED = str(AnalyticsSettings().exact_users_max)
BIG = 1_000_000  # formats.max_voucher_quantity


@dataclass(frozen=True)
class Endpoint:
    port: int
    room: str
    secret: str


@dataclass
class Report:
    sockets: int = 0
    sent: int = 0
    answered: int = 0
    in_window: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, int] = field(default_factory=dict)  # user → amount (burst)
    latency_ms: Counter[float] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Report) -> None:
        self.sockets += other.sockets
        self.sent += other.sent
        self.answered += other.answered
        self.in_window += other.in_window
        self.outcomes.update(other.outcomes)
        self.accepted.update(other.accepted)
        self.latency_ms.update(other.latency_ms)
        self.errors.update(other.errors)


@dataclass(frozen=True)
class Phase:
    kind: str  # "bid" or "claim"
    target: str  # auction or voucher id
    start: float
    window: tuple[float, float]
    end: float


class ActorSocket(RawWebSocket):
    """One viewer: sends one ``bid`` or ``claim`` at a time and times each answer."""

    def __init__(self, request: bytes, report: Report, user: str, index: int) -> None:
        super().__init__(request, report.errors)
        self.report = report
        self.user = user
        self.index = index
        self.phase: Phase | None = None
        self.done = asyncio.get_running_loop().create_future()
        self._seq = 0
        self._sent_at = 0.0
        self._amount = 0

    def act(self) -> None:
        phase = self.phase
        assert phase is not None
        self._seq += 1
        key = f"{phase.kind}-{phase.target}-{self._seq}"
        if phase.kind == "bid":
            self._amount = 100 + SPACING * (self._seq * 100_000 + self.index) % (10**9)
            frame = {"type": "bid", "auction": phase.target, "amount_cents": self._amount}
        else:
            frame = {"type": "claim", "voucher": phase.target}
        self._sent_at = time.time()
        self.report.sent += 1
        self.send(msgpack.packb({**frame, "key": key}), 0x2)

    def on_message(self, payload: bytes, opcode: int, now: float) -> None:
        message = msgpack.unpackb(payload, raw=False)
        kind = message["type"]
        if kind == "welcome":
            self.set_ready()
        elif kind in ("bid_result", "claim_result", "error") and self.phase is not None:
            self._answer(message, now)

    def _answer(self, message: dict[str, Any], now: float) -> None:
        report, phase = self.report, self.phase
        assert phase is not None
        if message["type"] == "error":
            report.outcomes[f"error {message.get('code')}"] += 1
        elif message["ok"]:
            report.outcomes["ok"] += 1
            if phase.kind == "bid" and message.get("leading") is not None:
                report.accepted[self.user] = self._amount
        else:
            report.outcomes[str(message.get("reason"))] += 1
        report.answered += 1
        start, end = phase.window
        if start <= self._sent_at < end:
            report.in_window += 1
            report.latency_ms[bucket_ms((now - self._sent_at) * 1000)] += 1
        if now < phase.end:
            self.act()
        elif not self.done.done():
            self.done.set_result(None)


async def open_actors(endpoint: Endpoint, users: range, report: Report) -> list[ActorSocket]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(n: int) -> ActorSocket:
        user = f"viewer{n}"
        token = issue_token(endpoint.secret, Role.viewer, user, ttl_s=3600)
        request = handshake_request(
            f"/ws/rooms/{endpoint.room}?format=msgpack&token={token}", endpoint.port
        )
        async with gate:
            _, socket = await loop.create_connection(
                lambda: ActorSocket(request, report, user, n), HOST, endpoint.port
            )
            await asyncio.wait_for(socket.ready, CONNECT_TIMEOUT_S)
        return socket

    return list(await asyncio.gather(*(open_one(n) for n in users)))


async def act(endpoint: Endpoint, users: range, pipe: Connection) -> None:
    sockets = await open_actors(endpoint, users, Report())
    pipe.send(len(sockets))
    loop = asyncio.get_running_loop()
    while True:
        phase = await loop.run_in_executor(None, pipe.recv)
        if phase is None:
            break
        report = Report(sockets=len(sockets))
        for socket in sockets:
            socket.report, socket.errors, socket.phase = report, report.errors, phase
            socket.done = loop.create_future()
        await asyncio.sleep(max(0.0, phase.start - time.time()))
        for socket in sockets:
            socket.act()
        await asyncio.sleep(max(0.0, phase.end - time.time()))
        _, missing = await asyncio.wait([s.done for s in sockets], timeout=ANSWER_TIMEOUT_S)
        if missing:
            report.errors[f"{len(missing)} viewers never answered"] += len(missing)
        pipe.send(report)
    for socket in sockets:
        socket.abort()


def actor_process(endpoint: Endpoint, users: range, pipe: Connection) -> None:
    raise_nofile_limit()
    run_loop(act(endpoint, users, pipe))


class FormatsNode:
    def __init__(self, viewers: int) -> None:
        frames = str(1_000_000)
        self.node = LivecommerceNode(
            {
                "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": frames,
                "LIVECOMMERCE_CHANNEL_FRAMES_BURST": frames,
                "LIVECOMMERCE_STORE_MAX_CONNECTIONS": str(max(128, viewers // 8)),
            }
        )
        self.anchor = self.node.token("anchor", "bench-anchor")
        self.room = self.node.api("POST", "/api/rooms", self.anchor, {"title": "formats"})["id"]
        product = {"sku": "B-1", "title": "Bench tea", "price_cents": 990, "currency": "EUR"}
        self.product = self.node.api(
            "POST", f"/api/rooms/{self.room}/products", self.anchor, product
        )["id"]
        self.endpoint = Endpoint(self.node.port, self.room, self.node.secret)

    def post(self, path: str, body: Any = None) -> Any:
        return self.node.api("POST", f"/api/rooms/{self.room}{path}", self.anchor, body)

    def new_auction(self) -> str:
        body = {"product_id": self.product, "start_price_cents": 100, "duration_s": 3600}
        return str(self.post("/auctions", body)["id"])

    def new_voucher(self) -> str:
        body = {"title": "bench", "discount_cents": 100, "quantity": BIG, "per_user_limit": BIG}
        return str(self.post("/vouchers", body)["id"])


def py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else (shutil.which("py-spy") or "py-spy")


def new_target(node: FormatsNode, kind: str) -> str:
    return node.new_auction() if kind == "bid" else node.new_voucher()


@dataclass
class Result:
    name: str
    report: Report
    window_s: float
    cpu: dict[str, float]
    metered_s: float  # wall time of the CPU figures

    @property
    def server_us_per_answer(self) -> float:
        """The node's CPU time per answer: less moved by other processes on a busy
        machine than any latency."""
        used_s = self.cpu["server"] / 100 * self.metered_s
        return used_s / max(1, self.report.answered) * 1e6

    @property
    def rate(self) -> float:
        return self.report.in_window / self.window_s


def run_phase(
    node: FormatsNode,
    pipes: list[Connection],
    pids: list[int],
    name: str,
    profile: Path | None,
    phase_of: Callable[[float], Phase],
) -> Result:
    phase = phase_of(time.time() + 0.5)
    cpu = CpuMeter({"server": [node.node.pid], "store": node.node.store_pids(), "clients": pids})
    for pipe in pipes:
        pipe.send(phase)
    time.sleep(max(0.0, max(phase.window[0], phase.start) - time.time()))
    spy = None
    if profile is not None:
        # Sampling with the node paused at each sample (not --nonblocking): a stack read
        # while Python runs is otherwise often torn and dropped, which overweights the
        # time spent in system calls.
        seconds = str(max(1, int(min(phase.end, phase.window[1]) - time.time())))
        command = [py_spy(), "record", "-r", "200", "-f", "raw", "-d", seconds]
        spy = subprocess.Popen(
            [*command, "-p", str(node.node.pid), "-o", str(profile)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    cpu.start()
    metered_from = time.monotonic()
    report = Report()
    for pipe in pipes:
        if not pipe.poll(phase.end - time.time() + ANSWER_TIMEOUT_S + 30):
            raise RuntimeError(f"{name}: a client process did not report")
        report.merge(pipe.recv())
    used = cpu.stop()
    metered_s = time.monotonic() - metered_from
    if spy is not None:
        spy.wait(30)
    window_s = phase.window[1] - phase.window[0] if phase.end > phase.start else 1.0
    return Result(name, report, window_s, used, metered_s)


async def ceiling(node: FormatsNode, options: Options, kind: str) -> float:
    """Calls per second of the bid or claim script pipelined straight to the store."""
    target = node.new_auction() if kind == "bid" else node.new_voucher()
    client = aioredis.from_url(node.node.store_url)
    scripts = ScriptRunner(client, metrics=Metrics())
    name = "auctions_bid" if kind == "bid" else "vouchers_claim"
    await scripts.load(name)
    sha = scripts.script(name).sha
    keys, room = Keys("lc:"), node.room
    stop_at = time.monotonic() + options.warmup + options.duration
    counted_from = time.monotonic() + options.warmup
    done = 0
    sequence = iter(range(10**9))

    def call(n: int) -> tuple[list[str], list[Any]]:
        user = f"c{n % 5000}"
        field = keys.idempotency_field(user, f"k{n}")
        if kind == "bid":
            return (
                [
                    keys.auction(room, target),
                    keys.auction_idempotency(room, target),
                    keys.room_bans(room),
                    keys.room_counters(room),
                    keys.analytics_users(room, "bids"),
                    keys.analytics_hll(room, "bids"),
                ],
                [user, 100 + SPACING * n, 0, field, 86_400_000, COUNTED],
            )
        return (
            [
                keys.voucher(room, target),
                keys.voucher_users(room, target),
                keys.voucher_idempotency(room, target),
                keys.voucher_claims(room),
                keys.voucher_wallets(room),
                keys.room_watch(room),
                keys.room_bans(room),
                keys.room_counters(room),
                keys.analytics_users(room, "voucher_claims"),
                keys.analytics_hll(room, "voucher_claims"),
            ],
            [target, user, field, f"c_{n}", 86_400_000, COUNTED],
        )

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            pipe = client.pipeline(transaction=False)
            for _ in range(options.pipeline):
                call_keys, args = call(next(sequence))
                pipe.evalsha(sha, len(call_keys), *call_keys, *args)
            answers = await pipe.execute()
            if time.monotonic() >= counted_from:
                done += len(answers)

    try:
        await asyncio.gather(*(worker() for _ in range(options.concurrency)))
    finally:
        await client.aclose()
    return done / options.duration


@dataclass(frozen=True)
class Options:
    bidders: int
    processes: int
    duration: float
    warmup: float
    pipeline: int
    concurrency: int


def describe(result: Result, loop: bool) -> None:
    report, lat = result.report, result.report.latency_ms
    p50, p99, worst = percentile(lat, 0.5), percentile(lat, 0.99), max(lat, default=0.0)
    say(f"  {result.name}: {report.sockets} viewers, {report.sent} sent, {report.answered} answers")
    say(f"    outcomes {dict(report.outcomes)}")
    rate = f"{result.rate:,.0f}/s over {result.window_s:.1f} s; " if loop else ""
    say(f"    {rate}latency ms p50 {p50:.1f}  p99 {p99:.1f}  max {worst:.1f}")
    cpu = result.cpu
    say(
        f"    CPU % of a core: server {cpu['server']:.0f}, store {cpu['store']:.0f}, "
        f"clients {cpu['clients']:.0f}; machine {cpu['machine']:.0f} % of all cores; "
        f"server {result.server_us_per_answer:.0f} us of CPU per answer"
    )
    if report.errors:
        say(f"    errors {dict(report.errors)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bidders", type=int, default=2000, help="WebSocket viewers")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of closed loop")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not counted")
    parser.add_argument("--pipeline", type=int, default=256, help="calls per ceiling pipeline")
    parser.add_argument("--concurrency", type=int, default=4, help="ceiling pipelines in flight")
    parser.add_argument(
        "--burst-only", action="store_true", help="measure the bid burst only (for profiling)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="py-spy the node during bids/s into FILE"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the node alone on CPU 0; its store, the clients and this script on the others",
    )
    args = parser.parse_args(argv)
    options = Options(
        args.bidders, args.processes, args.duration, args.warmup, args.pipeline, args.concurrency
    )
    say(f"open-files limit {raise_nofile_limit()}; {os.cpu_count()} CPUs")
    context = mp.get_context("spawn")
    node = FormatsNode(options.bidders)
    processes: list[Any] = []
    pipes: list[Connection] = []
    exact = True
    try:
        first, began = 0, time.monotonic()
        for count in split(options.bidders, options.processes):
            parent, child = context.Pipe()
            users = range(first, first + count)
            process = context.Process(
                target=actor_process, args=(node.endpoint, users, child), daemon=True
            )
            process.start()
            processes.append(process)
            pipes.append(parent)
            first += count
        opened = sum(pipe.recv() for pipe in pipes)
        say(f"{opened} viewers connected in {time.monotonic() - began:.1f} s")
        pids = [process.pid for process in processes]
        if args.pin:
            say(pin_apart([node.node.pid], node.node.store_pids(), pids))
        burst_auction = node.new_auction()
        burst = run_phase(
            node,
            pipes,
            pids,
            "bid burst",
            args.profile if args.burst_only else None,
            lambda at: Phase("bid", burst_auction, at, (0.0, float("inf")), at),
        )
        closed = node.post(f"/auctions/{burst_auction}/end")
        accepted = burst.report.accepted
        best = max(accepted, key=lambda user: accepted[user]) if accepted else None
        exact = (closed["winner"], closed["amount_cents"]) == (best, accepted.get(best or ""))
        loops = []
        kinds = () if args.burst_only else ("bid", "claim")
        for kind, target in ((kind, new_target(node, kind)) for kind in kinds):
            loops.append(
                run_phase(
                    node,
                    pipes,
                    pids,
                    f"{kind}s/s",
                    args.profile if kind == "bid" else None,
                    lambda at, kind=kind, target=target: Phase(
                        kind,
                        target,
                        at,
                        (at + options.warmup, at + options.warmup + options.duration),
                        at + options.warmup + options.duration,
                    ),
                )
            )
        for pipe in pipes:
            pipe.send(None)
        if not args.burst_only:
            say("store ceilings: the same scripts pipelined through redis-py")
            bid_ceiling = run_loop(ceiling(node, options, "bid"))
            claim_ceiling = run_loop(ceiling(node, options, "claim"))
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        node.node.stop()
    say("")
    describe(burst, loop=False)
    say(
        f"    one winner, the highest accepted bid: {'yes' if exact else 'NO'} "
        f"({closed['winner']} at {closed['amount_cents']})"
    )
    if args.burst_only:
        return 0 if exact else 1
    for result in loops:
        describe(result, loop=True)
    say(f"  store ceiling: {bid_ceiling:,.0f} bids/s, {claim_ceiling:,.0f} claims/s")
    say(f"ratio bids/s end to end / store ceiling: {loops[0].rate / bid_ceiling:.2f}")
    say(f"ratio claims/s end to end / store ceiling: {loops[1].rate / claim_ceiling:.2f}")
    return 0 if exact else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
