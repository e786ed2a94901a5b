"""Scale-out benchmark: the same load on one node and on two (two processes, one store).

Run from the repository root, with the ``bench`` extra installed::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python scripts/bench_scale.py
    .venv/bin/python scripts/bench_scale.py --only chat --clients 2000 --rate 100

Three loads, each first on one node, then on two nodes sharing one store
(the first node's embedded Valkey; same token secret), in one run:

* **chat**: ``--clients`` WebSockets in one room, spread evenly over the nodes
  from ``--processes`` client processes; a moderator publishes ``--rate``
  messages/s on the first node, each delivered to every socket (offered load
  rate x clients). Measured: deliveries/s over the window, p50/p99 latency.
  Set the offered load above what one node delivers: the ratio is then the
  capacity gained by the second node.
* **flash sale**: ``--buyers`` buyers spread over the nodes buy in a closed
  loop for ``--duration`` s on a sale too large to sell out (as in
  ``bench_flash_sale.py``). Measured: purchases/s, exact stock.
* **media**: ``livecommerce-anchor`` publishes the sample clip to the first
  node (the origin); ``--viewers`` WHEP viewers are split over origin and
  edge (the second node pulls the room once from the origin and fans out).
  Measured: each side's frame rate per viewer and each node's CPU.

Everything shares this machine's cores (nodes, store, clients): the ratios
say what a second process adds here, a lower bound on what a second machine adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench_chat import (
    ClientReport,
    Endpoint,
    PublisherReport,
    Schedule,
    merge_client_reports,
    publisher_process,
    receiver_process,
)
from bench_flash_sale import BIG_STOCK, Report, buyer_process
from bench_flash_sale import Endpoint as SaleEndpoint
from benchkit import CpuMeter, LivecommerceNode, percentile, raise_nofile_limit, say, split

ROOT = Path(__file__).resolve().parents[1]
FPS = 30
VIEWERS_PER_PROCESS = 20
DRAIN_S = 30.0


@dataclass
class Options:
    loads: tuple[str, ...]
    clients: int
    rate: float
    buyers: int
    viewers: int
    processes: int
    duration: float
    warmup: float


@dataclass
class Figures:
    """One load on one cluster size."""

    nodes: int
    rate: float
    detail: str
    cpu: dict[str, float] = field(default_factory=dict)


@contextmanager
def cluster(count: int, env: dict[str, str]) -> Iterator[list[LivecommerceNode]]:
    first = LivecommerceNode(env)
    nodes = [first]
    try:
        for _ in range(count - 1):
            nodes.append(LivecommerceNode(env, store_url=first.store_url, secret=first.secret))
        yield nodes
    finally:
        for node in reversed(nodes):
            node.stop()


def spawn(context: Any, started: list[Any], target: Callable[..., None], *args: Any) -> Connection:
    parent: Connection
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child), daemon=True)
    process.start()
    started.append(process)
    return parent


def receive_all(pipes: list[Connection], timeout_s: float) -> list[Any]:
    results = []
    for pipe in pipes:
        if not pipe.poll(timeout_s):
            raise RuntimeError("a client process did not answer")
        results.append(pipe.recv())
    return results


def join_all(started: list[Any]) -> None:
    for process in started:
        process.join(DRAIN_S)
        if process.is_alive():
            process.kill()


def cpu_groups(nodes: list[LivecommerceNode], clients: list[Any]) -> dict[str, list[int]]:
    groups = {f"node{i}": [node.pid] for i, node in enumerate(nodes)}
    groups["store"] = nodes[0].store_pids()
    groups["clients"] = [process.pid for process in clients]
    return groups


def cpu_text(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.0f}" for name, value in cpu.items())


# --- Chat ------------------------------------------------------------------------------


def chat(count: int, options: Options, context: Any) -> Figures:
    frames = str(max(1000, int(options.rate * 4)))
    env = {
        "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": frames,
        "LIVECOMMERCE_CHANNEL_FRAMES_BURST": frames,
    }
    with cluster(count, env) as nodes:
        anchor = nodes[0].token("anchor", "bench-anchor")
        room = nodes[0].api("POST", "/api/rooms", anchor, {"title": "scale"})["id"]
        publisher = nodes[0].token("moderator", "bench")
        path = f"/ws/rooms/{room}?format=msgpack"
        endpoints = [
            Endpoint("livecommerce", node.port, path, f"{path}&token={publisher}", "msgpack")
            for node in nodes
        ]
        started: list[Any] = []
        try:
            receivers = [
                spawn(context, started, receiver_process, endpoints[i % count], share)
                for i, share in enumerate(split(options.clients, options.processes))
            ]
            sockets = sum(receive_all(receivers, 300))
            sender = spawn(context, started, publisher_process, endpoints[0], options.rate, 1)
            receive_all([sender], 60)
            start = time.time() + 0.5
            schedule = Schedule(start, start + options.warmup, start + options.duration)
            for pipe in [*receivers, sender]:
                pipe.send(schedule)
            meter = CpuMeter(cpu_groups(nodes, started))
            time.sleep(max(0.0, schedule.window_start - time.time()))
            meter.start()
            time.sleep(max(0.0, schedule.end - time.time()))
            cpu = meter.stop()
            reports: list[ClientReport] = receive_all(receivers, options.duration + 60)
            published: PublisherReport = receive_all([sender], 60)[0]
        finally:
            join_all(started)
    merged = merge_client_reports(reports)
    window = schedule.end - schedule.window_start
    rate = merged.delivered_in_window / window
    p50, p99 = percentile(merged.latency_ms, 0.5), percentile(merged.latency_ms, 0.99)
    errors = dict(merged.errors + published.errors)
    detail = (
        f"{sockets} sockets, {options.rate:g} msg/s offered ({options.rate * sockets:,.0f} "
        f"deliveries/s): {rate:,.0f} deliveries/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        + (f", errors {errors}" if errors else "")
    )
    return Figures(count, rate, detail, cpu)


# --- Flash sale ------------------------------------------------------------------------


def flash_sale(count: int, options: Options, context: Any) -> Figures:
    env = {
        "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": "1000000",
        "LIVECOMMERCE_CHANNEL_FRAMES_BURST": "1000000",
        "LIVECOMMERCE_STORE_MAX_CONNECTIONS": str(max(128, options.buyers // 8)),
    }
    with cluster(count, env) as nodes:
        anchor = nodes[0].token("anchor", "bench-anchor")
        room = nodes[0].api("POST", "/api/rooms", anchor, {"title": "scale"})["id"]
        product = {"sku": "B-1", "title": "Bench tea", "price_cents": 990, "currency": "EUR"}
        product_id = nodes[0].api("POST", f"/api/rooms/{room}/products", anchor, product)["id"]
        sale = {
            "product_id": product_id,
            "price_cents": 500,
            "quantity": BIG_STOCK,
            "per_user_limit": BIG_STOCK,
            "duration_s": 3600,
            "reservation_ttl_s": 3600,
        }
        sale_id = nodes[0].api("POST", f"/api/rooms/{room}/sales", anchor, sale)["id"]
        started: list[Any] = []
        try:
            pipes, first = [], 0
            for i, share in enumerate(split(options.buyers, options.processes)):
                endpoint = SaleEndpoint(nodes[i % count].port, room, nodes[0].secret)
                users = range(first, first + share)
                pipes.append(spawn(context, started, buyer_process, endpoint, users))
                first += share
            receive_all(pipes, 300)
            start = time.time() + 0.5
            window = (start + options.warmup, start + options.duration)
            for pipe in pipes:
                pipe.send((sale_id, start, window, start + options.duration))
            meter = CpuMeter(cpu_groups(nodes, started))
            time.sleep(max(0.0, window[0] - time.time()))
            meter.start()
            time.sleep(max(0.0, window[1] - time.time()))
            cpu = meter.stop()
            report = Report()
            for part in receive_all(pipes, options.duration + 60):
                report.merge(part)
            for pipe in pipes:
                pipe.send(None)
            state = nodes[0].api("GET", f"/api/rooms/{room}/sales/{sale_id}", anchor)
        finally:
            join_all(started)
    rate = report.answered_in_window / (window[1] - window[0])
    sold = int(state["reserved"]) + int(state["sold"])
    exact = sold == report.reserved and int(state["left"]) >= 0
    p50, p99 = percentile(report.latency_ms, 0.5), percentile(report.latency_ms, 0.99)
    detail = (
        f"{report.sockets} buyers: {rate:,.0f} purchases/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms; "
        f"exact stock: {'yes' if exact else f'NO (store {sold}, buyers {report.reserved})'}"
    )
    return Figures(count, rate, detail, cpu)


# --- Media -----------------------------------------------------------------------------


async def whep_viewers(url: str, room: str, count: int) -> None:
    """``count`` WHEP viewers that count video frames without decoding (bench_media's)."""
    from bench_media import view

    await view(f"{url}/whep/{room}", count)


def spawn_viewers(url: str, room: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "viewers", "--url", url, "--room", room, "--count", str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def frame_counts(viewers: list[subprocess.Popen[str]]) -> list[list[int]]:
    for process in viewers:
        assert process.stdin is not None
        process.stdin.write("report\n")
        process.stdin.flush()
    counts = []
    for process in viewers:
        assert process.stdout is not None
        counts.append(json.loads(process.stdout.readline())["frames"])
    return counts


def wait_ready(process: subprocess.Popen[str], timeout_s: float = 300) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.strip() == "ready":
            return
        if not line and process.poll() is not None:
            raise RuntimeError("a viewer process exited before it was ready")
    raise RuntimeError("viewers were not ready in time")


def media(options: Options) -> Figures:
    from media.samples import sample_path

    # Every viewer comes from 127.0.0.1: benchkit's nodes run with no per-address limits.
    with cluster(2, {}) as nodes:
        anchor = nodes[0].token("anchor", "bench-anchor")
        room = nodes[0].api("POST", "/api/rooms", anchor, {"title": "scale"})["id"]
        publisher = subprocess.Popen(
            [sys.executable, "-m", "clients.anchor", "--server", nodes[0].url, "--token", anchor,
             "--room", room, "--source", str(sample_path("vp8")), "--no-console",
             "--status-every", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=ROOT,
        )  # fmt: skip
        viewers: list[subprocess.Popen[str]] = []
        sides: list[int] = []
        try:
            for side, share in enumerate(split(options.viewers, 2)):
                for part in split(share, max(1, -(-share // VIEWERS_PER_PROCESS))):
                    viewers.append(spawn_viewers(nodes[side].url, room, part))
                    sides.append(side)
            for process in viewers:
                wait_ready(process)
            time.sleep(options.warmup + 2)
            meter = CpuMeter(
                {
                    "origin": [nodes[0].pid],
                    "edge": [nodes[1].pid],
                    "viewers": [p.pid for p in viewers],
                }
            )
            before, began = frame_counts(viewers), time.monotonic()
            meter.start()
            time.sleep(options.duration)
            cpu = meter.stop()
            after, seconds = frame_counts(viewers), time.monotonic() - began
        finally:
            for process in viewers:
                if process.stdin is not None:
                    process.stdin.write("stop\n")
                    process.stdin.flush()
            for process in viewers:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            publisher.terminate()
            publisher.wait(10)
    fps: dict[int, list[float]] = {0: [], 1: []}
    for side, start, end in zip(sides, before, after, strict=True):
        fps[side].extend((b - a) / seconds for a, b in zip(start, end, strict=True))
    parts = []
    for side, name in ((0, "origin"), (1, "edge")):
        values = fps[side] or [0.0]
        parts.append(
            f"{name}: {len(fps[side])} viewers, median {statistics.median(values):.1f} fps, "
            f"min {min(values):.1f}"
        )
    every = fps[0] + fps[1]
    share = sum(1 for value in every if value >= 0.9 * FPS) / max(1, len(every))
    detail = "; ".join(parts) + f"; {100 * share:.0f} % of viewers at >= 90 % of {FPS} fps"
    return Figures(2, share, detail, cpu)


# --- Report ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["chat", "flash_sale", "media"], action="append")
    parser.add_argument("--clients", type=int, default=1000, help="chat sockets")
    parser.add_argument("--rate", type=float, default=150.0, help="chat messages/s offered")
    parser.add_argument("--buyers", type=int, default=2000, help="flash-sale buyers")
    parser.add_argument("--viewers", type=int, default=40, help="media viewers, half on each")
    parser.add_argument("--processes", type=int, default=2, help="client processes per load")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted")
    args = parser.parse_args(argv)
    loads = tuple(args.only or ("chat", "flash_sale", "media"))
    return Options(
        loads,
        args.clients,
        args.rate,
        args.buyers,
        args.viewers,
        args.processes,
        args.duration,
        args.warmup,
    )


def compare(name: str, run: Callable[[int], Figures]) -> None:
    results = []
    for count in (1, 2):
        say(f"[{name}] {count} node{'s' if count > 1 else ''}")
        result = run(count)
        say(f"  {result.detail}")
        say(f"  CPU % of a core: {cpu_text(result.cpu)}")
        results.append(result)
    say(f"ratio {name} 2 nodes / 1 node: {results[1].rate / max(results[0].rate, 1e-9):.2f}x")


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "viewers":
        viewer_args = argparse.ArgumentParser()
        viewer_args.add_argument("--url", required=True)
        viewer_args.add_argument("--room", required=True)
        viewer_args.add_argument("--count", type=int, required=True)
        args = viewer_args.parse_args(sys.argv[2:])
        asyncio.run(whep_viewers(args.url, args.room, args.count))
        return 0
    options = parse_args(argv)
    say(f"bench_scale: {os.cpu_count()} CPUs, open-files limit {raise_nofile_limit()}")
    context = mp.get_context("spawn")
    if "chat" in options.loads:
        compare("chat", lambda count: chat(count, options, context))
    if "flash_sale" in options.loads:
        compare("flash_sale", lambda count: flash_sale(count, options, context))
    if "media" in options.loads:
        say("[media] origin and edge")
        result = media(options)
        say(f"  {result.detail}")
        say(f"  CPU % of a core: {cpu_text(result.cpu)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
