"""Analytics benchmark: what counting the funnel costs the buy path, and how many
impressions a second one node absorbs.

Run from the repository root (psutil comes with the ``bench`` extra)::

    .venv/bin/python scripts/bench_analytics.py
    .venv/bin/python scripts/bench_analytics.py --duration 5 --rounds 4 --concurrency 200

One node (``livecommerce serve``, its own embedded store, AOF fsync as served), then:

1. **Buy path, analytics on vs off**: two ``OrderService``s on the node's store, one
   counting the funnel (``analytics.exact_users_max``) and one not, as ``app.py`` builds
   them (buys of one tick batched in one pipeline). ``--concurrency`` buyers buy in a
   closed loop (a fresh idempotency key each time, users cycling over ``--users`` ids so
   the attempts' visitor set moves into its HyperLogLog) for ``--duration`` seconds,
   ``--rounds`` paired rounds (off then on, then on then off, …) so drift hits both.
   Reported: purchases/s and p50/p99 per mode, and on/off overall and as the median
   of the rounds' ratios (the target: at most 5 % slower).
2. **Store only**: the same ``sales_reserve.lua`` called directly in pipelines of 100,
   on vs off in paired rounds: throughput, the store's own time per call
   (``INFO commandstats`` after a ``CONFIG RESETSTAT``: wall time, so a busy machine
   inflates it) and the store process's CPU time per call, without Python around it.
3. **Impressions/s**: ``--concurrency`` HTTP clients POST
   ``/api/rooms/{room}/impressions`` to the node (per-address limit off) for
   ``--duration`` seconds; the node's count must equal the answers.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import time
from collections import Counter
from statistics import median
from typing import Any

import aiohttp
import psutil
import redis.asyncio as aioredis
from benchkit import LivecommerceNode, bucket_ms, percentile, run_loop, say

from livecommerce.bus import StoreRoomBus
from livecommerce.channel.events import check_delivery
from livecommerce.commerce.orders import OrderService, reserve_call
from livecommerce.config import DiscoverySettings
from livecommerce.context import StoreContext
from livecommerce.metrics import Metrics
from livecommerce.store.batch import StoreBatcher
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.store.replies import ReserveReply

EXACT_USERS_MAX = 1000
PIPELINE = 100


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=8, help="paired rounds (off and on)")
    parser.add_argument("--concurrency", type=int, default=100, help="buyers / HTTP clients")
    parser.add_argument("--users", type=int, default=5000, help="distinct buyer ids")
    parser.add_argument(
        "--exact-users-max",
        type=int,
        default=EXACT_USERS_MAX,
        help="analytics.exact_users_max of the counting mode (visitors past it go to the HLL)",
    )
    return parser.parse_args()


def order_of(round_: int) -> tuple[str, str]:
    """Off first in even rounds, on first in odd ones: drift (a store filling up, another
    process starting) weighs on both modes alike."""
    return ("off", "on") if round_ % 2 == 0 else ("on", "off")


def setup(node: LivecommerceNode) -> tuple[str, str]:
    """A room with a product and a sale too large to sell out: (room, sale)."""
    anchor = node.token("anchor", "bench-anchor")
    room = node.api("POST", "/api/rooms", anchor, {"title": "Analytics bench"})["id"]
    item = node.api(
        "POST",
        f"/api/rooms/{room}/products",
        anchor,
        {"sku": "B-1", "title": "Bench item", "price_cents": 100, "currency": "EUR"},
    )
    body = {
        "product_id": item["id"],
        "price_cents": 100,
        "quantity": 1_000_000,
        "per_user_limit": 1_000_000,
        "duration_s": 3600,
        "reservation_ttl_s": 3600,
    }
    sale = node.api("POST", f"/api/rooms/{room}/sales", anchor, body)["id"]
    return room, sale


async def buy_round(
    orders: OrderService, room: str, sale: str, options: argparse.Namespace, users: Any
) -> tuple[int, Counter[float]]:
    """Closed-loop buys for one round: (purchases, latency histogram in ms)."""
    done = 0
    latencies: Counter[float] = Counter()
    deadline = time.monotonic() + options.duration

    async def buyer() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            started = time.perf_counter()
            answer = await orders.buy(room, sale, next(users), 1, secrets.token_hex(8))
            assert answer.result.ok, answer.body
            latencies[bucket_ms((time.perf_counter() - started) * 1000)] += 1
            done += 1

    await asyncio.gather(*(buyer() for _ in range(options.concurrency)))
    return done, latencies


async def buy_path(
    store_url: str, store_pids: list[int], room: str, sale: str, options: argparse.Namespace
) -> None:
    client = aioredis.Redis.from_url(store_url, max_connections=64)
    keys, metrics = Keys("lc:"), Metrics()
    scripts = ScriptRunner(client, metrics=metrics)
    bus = StoreRoomBus(client, keys, check=check_delivery)
    store = StoreContext(client=client, keys=keys, scripts=scripts, bus=bus, metrics=metrics)
    batcher = StoreBatcher(client, scripts=scripts, metrics=metrics)
    discovery = DiscoverySettings()
    services = {
        mode: OrderService(
            store=store,
            discovery=discovery,
            batcher=batcher,
            analytics=options.exact_users_max if mode == "on" else None,
        )
        for mode in ("off", "on")
    }
    users = itertools.cycle([f"buyer{n}" for n in range(options.users)])
    totals = {mode: [0, 0.0, Counter[float]()] for mode in services}
    await buy_round(services["off"], room, sale, options, users)  # warm-up, not counted
    ratios = []
    for round_ in range(options.rounds):
        rate = {}
        for mode in order_of(round_):
            began = time.monotonic()
            done, latencies = await buy_round(services[mode], room, sale, options, users)
            seconds = time.monotonic() - began
            rate[mode] = done / seconds
            totals[mode][0] += done  # type: ignore[operator]
            totals[mode][1] += seconds  # type: ignore[operator]
            totals[mode][2].update(latencies)  # type: ignore[union-attr]
        ratios.append(rate["on"] / rate["off"])
    rates = {}
    for mode, (done, seconds, latencies) in totals.items():
        rates[mode] = done / seconds
        say(
            f"buy path, analytics {mode:>3}: {rates[mode]:8.0f} purchases/s  "
            f"p50 {percentile(latencies, 0.5):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms"
        )
    say(
        f"buy path: analytics on / off = {rates['on'] / rates['off']:.3f} overall, "
        f"{median(ratios):.3f} median of {len(ratios)} paired rounds "
        f"({', '.join(f'{r:.2f}' for r in ratios)}) (target >= 0.95)"
    )
    await store_only(client, scripts, keys, discovery, room, sale, options, store_pids)
    await batcher.aclose()
    await client.aclose()


async def store_only(
    client: Any,
    scripts: ScriptRunner,
    keys: Keys,
    discovery: DiscoverySettings,
    room: str,
    sale: str,
    options: argparse.Namespace,
    store_pids: list[int],
) -> None:
    """``sales_reserve.lua`` in pipelines, on vs off, interleaved rounds."""
    rates: dict[str, list[float]] = {"off": [0, 0.0], "on": [0, 0.0]}
    server_us: dict[str, list[float]] = {"off": [], "on": []}
    cpu_us: dict[str, list[float]] = {"off": [], "on": []}
    n = 0
    for round_ in range(options.rounds):
        for mode in order_of(round_):
            analytics = options.exact_users_max if mode == "on" else None
            await client.config_resetstat()
            deadline = time.monotonic() + options.duration / 2
            began = time.monotonic()
            cpu_before = cpu_seconds(store_pids)
            done = calls_sent = 0
            while time.monotonic() < deadline:
                calls = []
                for _ in range(PIPELINE):
                    n += 1
                    user, key = f"buyer{n % options.users}", f"s{n}"
                    calls.append(
                        reserve_call(keys, discovery, room, sale, user, 1, key, analytics=analytics)
                    )
                replies = await scripts.call_many(ReserveReply, calls)
                done += sum(1 for reply in replies if reply.answer.ok)
                calls_sent += len(calls)
            cpu_us[mode].append((cpu_seconds(store_pids) - cpu_before) / calls_sent * 1e6)
            rates[mode][0] += done
            rates[mode][1] += time.monotonic() - began
            stats = (await client.info("commandstats")).get("cmdstat_evalsha", {})
            server_us[mode].append(float(stats.get("usec_per_call", "nan")))
    per_s = {mode: done / seconds for mode, (done, seconds) in rates.items()}
    for mode, rate in per_s.items():
        us, cpu = median(server_us[mode]), median(cpu_us[mode])
        say(
            f"store only (sales_reserve.lua), analytics {mode:>3}: {rate:8.0f} reserves/s, "
            f"median {us:.1f} us of store time and {cpu:.1f} us of store CPU per call"
        )
    say(f"store only: analytics on / off = {per_s['on'] / per_s['off']:.3f} (throughput)")
    paired = [on / off for on, off in zip(server_us["on"], server_us["off"], strict=True)]
    say(
        f"store only: store time per call, on / off = {median(paired):.3f} median of "
        f"{len(paired)} paired rounds ({', '.join(f'{r:.2f}' for r in paired)})"
    )
    paired = [on / off for on, off in zip(cpu_us["on"], cpu_us["off"], strict=True)]
    say(
        f"store only: store CPU per call, on / off = {median(paired):.3f} median of "
        f"{len(paired)} paired rounds ({', '.join(f'{r:.2f}' for r in paired)})"
    )


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of the store's processes so far."""
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


async def impressions(node: LivecommerceNode, room: str, options: argparse.Namespace) -> None:
    url = f"{node.url}/api/rooms/{room}/impressions"
    ok = 0
    errors: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=options.concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        deadline = time.monotonic() + options.duration

        async def reporter() -> None:
            nonlocal ok
            while time.monotonic() < deadline:
                async with http.post(url) as response:
                    await response.read()
                    if response.status == 200:
                        ok += 1
                    else:
                        errors[response.status] += 1

        began = time.monotonic()
        await asyncio.gather(*(reporter() for _ in range(options.concurrency)))
        seconds = time.monotonic() - began
    admin = node.token("admin", "bench-admin")
    counted = node.api("GET", f"/api/rooms/{room}/analytics", admin)["funnel"]["impressions"]
    say(
        f"impressions: {ok / seconds:8.0f} /s over {seconds:.1f} s "
        f"({options.concurrency} clients), errors {dict(errors)}; "
        f"counted {counted['total']} of {ok} answered"
    )
    assert counted["total"] == ok


def main() -> None:
    options = parse_args()
    say("starting a node (embedded store)")
    node = LivecommerceNode({"LIVECOMMERCE_ANALYTICS_IMPRESSIONS_BURST": "0"})
    try:
        room, sale = setup(node)
        run_loop(buy_path(node.store_url, node.store_pids(), room, sale, options))
        run_loop(impressions(node, room, options))
    finally:
        node.stop()


if __name__ == "__main__":
    main()
