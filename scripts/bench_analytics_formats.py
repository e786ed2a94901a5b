"""Analytics benchmark of the selling formats: what counting claimers and bidders costs a
voucher claim and an auction bid (analytics on vs off, in the same run).

Run from the repository root::

    .venv/bin/python scripts/bench_analytics_formats.py
    .venv/bin/python scripts/bench_analytics_formats.py --duration 3 --rounds 6

One node (``livecommerce serve``, its own embedded store, AOF fsync as served) holds a
room with a voucher too large to claim out and ``--concurrency`` auctions. Two
``VoucherService``s and two ``AuctionService``s on the node's store, one pair counting
(``analytics.exact_users_max``) and one not, as ``web/formats_app.py`` builds them:

1. **Claims**: ``--concurrency`` claimers claim in a closed loop (a fresh key each time,
   users cycling over ``--users`` ids so the claimers' visitor set moves into its
   HyperLogLog), ``--rounds`` paired rounds of ``--duration`` seconds (off then on, then on
   then off, …). Every claim must succeed.
2. **Bids**: each of ``--concurrency`` bidders bids on its own auction, each bid above the
   last by a wide margin, the bidder a new user each time: every bid is accepted (and,
   with analytics on, counts its bidder).

Reported: actions/s and p50/p99 per mode, on / off overall and the median of the paired
rounds' ratios; and each script's store time per call (``INFO commandstats``), on / off.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from statistics import median

import redis.asyncio as aioredis
from benchkit import LivecommerceNode, bucket_ms, percentile, run_loop, say

from livecommerce.bus import StoreRoomBus
from livecommerce.channel.events import check_delivery
from livecommerce.commerce.auctions import AuctionService
from livecommerce.commerce.vouchers import VoucherService
from livecommerce.config import FormatsSettings
from livecommerce.context import StoreContext
from livecommerce.metrics import Metrics
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner

EXACT_USERS_MAX = 1000
# Each bid beats the last by this much (cents): above any step of the increment table.
RAISE_CENTS = 100_000
Action = Callable[[int], Awaitable[bool]]  # the n-th action of one actor; True if accepted


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=6, help="paired rounds (off and on)")
    parser.add_argument("--concurrency", type=int, default=50, help="claimers / bidders")
    parser.add_argument("--users", type=int, default=5000, help="distinct user ids")
    return parser.parse_args()


def order_of(round_: int) -> tuple[str, str]:
    return ("off", "on") if round_ % 2 == 0 else ("on", "off")


def setup(node: LivecommerceNode, auctions: int) -> tuple[str, str, list[str]]:
    """A room with a product, a dropped voucher and ``auctions`` open auctions."""
    anchor = node.token("anchor", "bench-anchor")
    room = node.api("POST", "/api/rooms", anchor, {"title": "Formats analytics bench"})["id"]
    item = node.api(
        "POST",
        f"/api/rooms/{room}/products",
        anchor,
        {"sku": "F-1", "title": "Bench lot", "price_cents": 100, "currency": "EUR"},
    )
    offer = node.api(
        "POST",
        f"/api/rooms/{room}/vouchers",
        anchor,
        {"title": "Bench", "discount_cents": 1, "quantity": 1_000_000, "per_user_limit": 1000},
    )
    lots = [
        node.api(
            "POST",
            f"/api/rooms/{room}/auctions",
            anchor,
            {"product_id": item["id"], "start_price_cents": 1, "duration_s": 3600},
        )["id"]
        for _ in range(auctions)
    ]
    return room, offer["id"], lots


async def closed_loop(actors: list[Action], duration: float) -> tuple[int, Counter[float]]:
    """Every actor acts in a closed loop for ``duration`` seconds: (actions, latencies)."""
    done = 0
    latencies: Counter[float] = Counter()
    deadline = time.monotonic() + duration

    async def run(act: Action) -> None:
        nonlocal done
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert await act(done), "an action was refused"
            latencies[bucket_ms((time.perf_counter() - started) * 1000)] += 1
            done += 1

    await asyncio.gather(*(run(act) for act in actors))
    return done, latencies


async def compare(
    name: str,
    script: str,
    client: aioredis.Redis,
    actors: dict[str, list[Action]],
    options: argparse.Namespace,
) -> None:
    """Paired rounds of one action, off vs on; actions/s, latency and store time per call."""
    await closed_loop(actors["off"], options.duration / 2)  # warm-up, not counted
    totals = {mode: [0, 0.0, Counter[float]()] for mode in actors}
    ratios: list[float] = []
    server_us: dict[str, list[float]] = {"off": [], "on": []}
    for round_ in range(options.rounds):
        rate = {}
        for mode in order_of(round_):
            await client.config_resetstat()
            began = time.monotonic()
            done, latencies = await closed_loop(actors[mode], options.duration)
            seconds = time.monotonic() - began
            stats = (await client.info("commandstats")).get("cmdstat_evalsha", {})
            server_us[mode].append(float(stats.get("usec_per_call", "nan")))
            rate[mode] = done / seconds
            totals[mode][0] += done  # type: ignore[operator]
            totals[mode][1] += seconds  # type: ignore[operator]
            totals[mode][2].update(latencies)  # type: ignore[union-attr]
        ratios.append(rate["on"] / rate["off"])
    rates = {}
    for mode, (done, seconds, latencies) in totals.items():
        rates[mode] = done / seconds
        say(
            f"{name}, analytics {mode:>3}: {rates[mode]:8.0f} /s  "
            f"p50 {percentile(latencies, 0.5):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms  "
            f"store {median(server_us[mode]):.1f} us per {script} call (median)"
        )
    paired = [on / off for on, off in zip(server_us["on"], server_us["off"], strict=True)]
    say(
        f"{name}: analytics on / off = {rates['on'] / rates['off']:.3f} overall, "
        f"{median(ratios):.3f} median of {len(ratios)} paired rounds "
        f"({', '.join(f'{r:.2f}' for r in ratios)}); store time per call on / off "
        f"{median(paired):.3f} median"
    )


async def formats_path(
    store_url: str, room: str, voucher: str, lots: list[str], options: argparse.Namespace
) -> None:
    client = aioredis.Redis.from_url(store_url, max_connections=64)
    keys, metrics = Keys("lc:"), Metrics()
    scripts = ScriptRunner(client, metrics=metrics)
    bus = StoreRoomBus(client, keys, check=check_delivery)
    store = StoreContext(client=client, keys=keys, scripts=scripts, bus=bus, metrics=metrics)
    users: Iterator[str] = itertools.cycle([f"user{n}" for n in range(options.users)])
    claims: dict[str, list[Action]] = {}
    bids: dict[str, list[Action]] = {}
    prices = dict.fromkeys(lots, 0)
    for mode in ("off", "on"):
        analytics = EXACT_USERS_MAX if mode == "on" else None
        vouchers = VoucherService(store=store, analytics=analytics)
        auctions = AuctionService(store=store, settings=FormatsSettings(), analytics=analytics)

        def claimer(_: int, vouchers: VoucherService = vouchers) -> Awaitable[bool]:
            async def claim() -> bool:
                key = secrets.token_hex(8)
                return (await vouchers.claim(room, voucher, next(users), key)).result.ok

            return claim()

        def bidder(lot: str, auctions: AuctionService = auctions) -> Action:
            async def bid(_: int) -> bool:
                prices[lot] += RAISE_CENTS
                key = secrets.token_hex(8)
                answer = await auctions.bid(room, lot, next(users), prices[lot], 0, key)
                return answer.result.ok

            return bid

        claims[mode] = [claimer] * options.concurrency
        bids[mode] = [bidder(lot) for lot in lots]
    await compare("claims", "vouchers_claim.lua", client, claims, options)
    await compare("bids", "auctions_bid.lua", client, bids, options)
    await client.aclose()


def main() -> None:
    options = parse_args()
    say("starting a node (embedded store)")
    node = LivecommerceNode({})
    try:
        room, voucher, lots = setup(node, options.concurrency)
        run_loop(formats_path(node.store_url, room, voucher, lots, options))
    finally:
        node.stop()


if __name__ == "__main__":
    main()
