"""Automod's cost on chat fan-out: the same room and load with automod off and at a level,
in one run (livecommerce against itself; the ratio is the figure).

Run from the repository root, with the ``bench`` extra installed::

    .venv/bin/python scripts/bench_automod.py                       # off vs level 2
    .venv/bin/python scripts/bench_automod.py --level 3 --rounds 2 --clients 2000 --rate 120

Each variant starts its own ``livecommerce serve`` (embedded store) and drives it exactly
as ``scripts/bench_chat.py`` does (same receivers, publisher, window and report), with one
difference for both: the publisher is a *viewer*, not a moderator, since automod never
screens staff; its chat rate limit is raised to the offered rate. Every message then takes
the whole automod path: the room's settings (cached), normalisation, every text rule,
the spam fingerprint, and in ``chat_post.lua`` the repeat and copy-paste counts. The chat
text passes every rule (its send time is written with ``_`` between digit groups, so the
phone rule does not hold it), so deliveries stay comparable. Variants run in the order
off, level, off, level, … (``--rounds``) to spread the machine's drift over both.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
from typing import Any

import psutil
from bench_chat import (
    Endpoint,
    Options,
    RunResult,
    Server,
    child_processes,
    drive,
    report,
)
from benchkit import LivecommerceNode, raise_nofile_limit, say


class AutomodServer(Server):
    """``livecommerce serve`` with one room at automod ``level`` and a viewer publisher."""

    def __init__(self, options: Options, level: int) -> None:
        frames = str(max(1000, int(options.rate * 4 / options.publishers)))
        chat = str(max(1000, int(options.rate * 4)))
        self._node = LivecommerceNode(
            {
                "LIVECOMMERCE_CHANNEL_FRAMES_PER_S": frames,
                "LIVECOMMERCE_CHANNEL_FRAMES_BURST": frames,
                "LIVECOMMERCE_CHANNEL_CHAT_PER_S": chat,
                "LIVECOMMERCE_CHANNEL_CHAT_BURST": chat,
                # The publisher is a viewer: without this, a rate above the chat budget
                # would be sampled and the run would measure the sample, not the fan-out.
                "LIVECOMMERCE_CHANNEL_SAMPLING_CHAT_RATE": "0",
            }
        )
        self.pid = self._node.pid
        anchor = self._node.token("anchor", "bench-anchor")
        room = self._node.api("POST", "/api/rooms", anchor, {"title": "automod benchmark"})["id"]
        moderator = self._node.token("moderator", "bench-mod")
        settings = self._node.api(
            "POST", f"/api/rooms/{room}/moderation/automod", moderator, {"level": level}
        )["settings"]
        say(f"[automod {level}] holds: {settings['effective']}")
        publisher = self._node.token("viewer", "bench-viewer")
        path = f"/ws/rooms/{room}?format={options.wire}"
        self.endpoint = Endpoint(
            "livecommerce", self._node.port, path, f"{path}&token={publisher}", options.wire
        )

    def log_tail(self) -> list[str]:
        return self._node.log_tail()

    def store_pids(self) -> list[int]:
        return self._node.store_pids()

    def stop(self) -> None:
        self._node.stop()


def run_variant(level: int, options: Options, context: Any) -> RunResult:
    say(f"[automod {level}] starting the server")
    server = AutomodServer(options, level)
    try:
        with child_processes(context) as started:
            result = drive(server, options, context, started)
    finally:
        server.stop()
        for line in server.log_tail():
            say(f"[automod {level}] server: {line}")
    result.kind = f"automod-{level}"  # type: ignore[assignment]  # the report's label
    return result


def parse_args(argv: list[str] | None) -> tuple[Options, int, int]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--level", type=int, choices=(1, 2, 3), default=2, help="automod level (2)")
    parser.add_argument("--rounds", type=int, default=1, help="off/level pairs to run (1)")
    parser.add_argument("--clients", type=int, default=1000, help="receiving sockets (1000)")
    parser.add_argument("--rate", type=float, default=80.0, help="chat messages/s sent (80)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of publishing (20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured (3)")
    parser.add_argument("--processes", type=int, default=2, help="client processes (2)")
    parser.add_argument("--format", choices=["msgpack", "json"], default="msgpack", dest="wire")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.clients < 1 or args.rate <= 0:
        parser.error("--rounds, --clients and --rate must be positive")
    options = Options(
        args.clients, args.rate, args.duration, args.warmup, args.processes, 1, args.wire, None
    )
    return options, args.level, args.rounds


def main(argv: list[str] | None = None) -> int:
    options, level, rounds = parse_args(argv)
    say(f"open-files limit {raise_nofile_limit()}; {psutil.cpu_count()} CPUs")
    context = mp.get_context("spawn")
    results: list[RunResult] = []
    for _ in range(rounds):
        results += [run_variant(0, options, context), run_variant(level, options, context)]
    report(results)
    off = [r for r in results if r.kind == "automod-0"]
    on = [r for r in results if r.kind != "automod-0"]
    deliveries = statistics.mean(
        b.deliveries_per_s / a.deliveries_per_s for a, b in zip(off, on, strict=True)
    )
    cost = statistics.mean(
        b.server_us_per_delivery / a.server_us_per_delivery for a, b in zip(off, on, strict=True)
    )
    fewer = 100 * (1 - deliveries)
    say(f"ratio automod {level}/off deliveries/s: {deliveries:.3f} ({fewer:.1f} % fewer)")
    say(f"ratio automod {level}/off server CPU per delivery: {cost:.3f}")
    if all(r.deliveries_per_s >= 0.98 * r.rate * r.sockets for r in results):
        say("  (every variant kept up with the offered load: raise --rate for a capacity ratio)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
