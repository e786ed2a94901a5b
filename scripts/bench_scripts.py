"""Store cost of the hot-path scripts: a git ref's version beside the working tree's, on one
store, in paired rounds.

Run from the repository root (psutil comes with the ``bench`` extra)::

    .venv/bin/python scripts/bench_scripts.py --ref HEAD~3
    .venv/bin/python scripts/bench_scripts.py --ref main --rounds 10 --seconds 2

One embedded store (``EmbeddedValkey``, AOF fsync ``always`` as served). Each script —
``sales_reserve.lua`` with analytics off and on, ``auctions_bid.lua`` (every bid raises the
price), ``vouchers_claim.lua`` — runs as ``--ref`` had it and as the working tree has it,
each version on keys of its own room, in pipelines of ``--pipeline`` calls for
``--seconds``, the two versions alternating first from round to round. Measured per round:
the store process's CPU time per call (user + system, what the script costs the store),
``INFO commandstats``' time per EVALSHA, and the commands the script ran per call (the
one figure a busy machine does not move). Reported: medians, and new / ref as the
median of the paired rounds' ratios (below 1: the working tree is cheaper). Figures on a
shared machine are provisional; the paired ratios are what to read.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from statistics import median
from typing import Any

import psutil
import redis.asyncio as aioredis
from benchkit import run_loop, say

from livecommerce.commerce.orders import reserve_call
from livecommerce.config import DiscoverySettings
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.store.keys import Keys
from livecommerce.store.lua import include_libraries, load_script

SCRIPTS_DIR = "livecommerce/store/scripts"
BIG = 10**9
# What the bench itself sends, not a script's own commands.
NOT_INNER = {"cmdstat_evalsha", "cmdstat_config|resetstat", "cmdstat_info"}
Call = tuple[list[str], list[Any]]


def ref_source(ref: str, name: str) -> str:
    """The script ``name`` as ``ref`` had it, its libraries included as ``ref`` had them."""

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{ref}:{path}"], check=True, capture_output=True, text=True
        ).stdout

    return include_libraries(
        name, show(f"{SCRIPTS_DIR}/{name}.lua"), lambda lib: show(f"{SCRIPTS_DIR}/lib/{lib}.lua")
    )


async def prepare(client: Any, keys: Keys, room: str) -> None:
    """A sale, an auction and a voucher in ``room`` that no call can exhaust."""
    await client.hset(
        keys.sale(room, "s_bench"),
        mapping={
            "stock": BIG, "starts_at": 0, "ends_at": BIG * 10**6, "stopped_at": 0,
            "per_user_limit": BIG, "price_cents": 100, "currency": "EUR",
            "product_id": "p_bench", "reservation_ttl_s": 3600, "reserved": 0,
        },
    )  # fmt: skip
    await client.hset(
        keys.auction(room, "a_bench"),
        mapping={
            "state": "open", "ends_at": BIG * 10**6, "start_price_cents": 100, "price": 0,
            "increments": "[[0, 100]]", "anti_snipe_s": 0, "sudden_death": "0", "bids": 0,
            "version": 0,
        },
    )  # fmt: skip
    await client.hset(
        keys.voucher(room, "v_bench"),
        mapping={
            "state": "live", "left": BIG, "per_user_limit": BIG, "expires_at": 0,
            "watch_s_required": 0, "discount_cents": 100, "percent_off": 0,
            "min_spend_cents": 0, "title": "bench", "claimed": 0,
        },
    )  # fmt: skip


def calls_of(kind: str, keys: Keys, room: str) -> Callable[[int], Call]:
    """The n-th call of a kind (users cycle over 5,000 ids, as in the other benches)."""
    discovery = DiscoverySettings()

    def call(n: int) -> Call:
        user = f"u{n % 5000}"
        if kind.startswith("sales_reserve"):
            analytics = 1000 if kind.endswith("+analytics") else None
            k, a = reserve_call(
                keys, discovery, room, "s_bench", user, 1, f"k{n}", analytics=analytics
            )
            return list(k), list(a)
        field = keys.idempotency_field(user, f"k{n}")
        if kind == "auctions_bid":
            return (
                [keys.auction(room, "a_bench"), keys.auction_idempotency(room, "a_bench"),
                 keys.room_bans(room), keys.room_counters(room)],
                [user, 100 + 100 * n, 0, field, 86_400_000],
            )  # fmt: skip
        return (
            [keys.voucher(room, "v_bench"), keys.voucher_users(room, "v_bench"),
             keys.voucher_idempotency(room, "v_bench"), keys.voucher_claims(room),
             keys.voucher_wallets(room), keys.room_watch(room), keys.room_bans(room),
             keys.room_counters(room)],
            ["v_bench", user, field, f"c_{n}", 86_400_000],
        )  # fmt: skip

    return call


async def measure(
    client: Any, store: psutil.Process, sha: str, call: Callable[[int], Call], options: Any
) -> tuple[float, float, float, float]:
    """One round: (calls/s, store CPU µs per call, commandstats µs per EVALSHA, commands
    run inside the script per call)."""
    await client.config_resetstat()
    cpu = store.cpu_times()
    began = time.perf_counter()
    done = 0
    while time.perf_counter() - began < options.seconds:
        pipe = client.pipeline(transaction=False)
        for _ in range(options.pipeline):
            keys, args = call(options.counter)
            options.counter += 1
            pipe.evalsha(sha, len(keys), *keys, *args)
        await pipe.execute()
        done += options.pipeline
    seconds = time.perf_counter() - began
    after = store.cpu_times()
    used = (after.user - cpu.user) + (after.system - cpu.system)
    stats = await client.info("commandstats")
    evalsha = stats.get("cmdstat_evalsha", {})
    inner = sum(int(row["calls"]) for name, row in stats.items() if name not in NOT_INNER)
    return (
        done / seconds,
        used / done * 1e6,
        float(evalsha.get("usec_per_call", "nan")),
        inner / done,
    )


async def compare(url: str, pid: int, options: Any) -> None:
    client = aioredis.Redis.from_url(url)
    store = psutil.Process(pid)
    keys = Keys("lc:")
    for version in ("ref", "new"):
        await prepare(client, keys, f"bench-{version}")
    for kind in options.kinds:
        name = kind.split("+")[0]
        shas = {
            "ref": await client.script_load(ref_source(options.ref, name)),
            "new": await client.script_load(load_script(name).source),
        }
        rounds: dict[str, list[tuple[float, float, float, float]]] = {"ref": [], "new": []}
        for round_ in range(options.rounds):
            for version in ("ref", "new") if round_ % 2 == 0 else ("new", "ref"):
                call = calls_of(kind, keys, f"bench-{version}")
                rounds[version].append(await measure(client, store, shas[version], call, options))
        for version, rows in rounds.items():
            say(
                f"{kind:26s} {version}: {median(r[0] for r in rows):7.0f} calls/s  "
                f"store CPU {median(r[1] for r in rows):6.1f} us/call  "
                f"EVALSHA {median(r[2] for r in rows):6.1f} us/call  "
                f"{median(r[3] for r in rows):5.2f} commands/call"
            )
        cpu = median(n[1] / r[1] for n, r in zip(rounds["new"], rounds["ref"], strict=True))
        usec = median(n[2] / r[2] for n, r in zip(rounds["new"], rounds["ref"], strict=True))
        say(f"{kind:26s} new / ref: store CPU {cpu:.3f}, EVALSHA time {usec:.3f} (paired medians)")
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="git ref of the scripts to compare with")
    parser.add_argument("--rounds", type=int, default=6, help="paired rounds per script")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per round")
    parser.add_argument("--pipeline", type=int, default=100, help="calls per pipeline")
    parser.add_argument(
        "--kinds",
        default="sales_reserve,sales_reserve+analytics,auctions_bid,vouchers_claim",
        help="comma-separated: sales_reserve, sales_reserve+analytics, auctions_bid, "
        "vouchers_claim",
    )
    options = parser.parse_args()
    options.kinds = options.kinds.split(",")
    options.counter = 0
    with tempfile.TemporaryDirectory() as data_dir:
        store = EmbeddedValkey(data_dir)
        store.start()
        try:
            assert store.pid is not None
            say(f"store pid {store.pid}; scripts at {options.ref} (ref) vs the working tree (new)")
            run_loop(compare(store.url, store.pid, options))
        finally:
            store.stop()


if __name__ == "__main__":
    main()
