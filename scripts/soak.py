"""Soak: days of traffic compressed on a configurable clock; the store's memory and key
counts per simulated day, and how much they grow per day once the retention windows
have passed.

    python scripts/soak.py                      # 8 simulated days of 30 s each
    python scripts/soak.py --days 12 --day-s 60 --rooms-per-day 10

One node runs in this process on an embedded store. Each simulated day, rooms go live
and end, viewers chat, like and buy, orders are paid, cancelled or left to expire, and
order events are delivered to a webhook receiver (and refused with 410 by a second,
retired one). Every retention setting is given in simulated days and scaled to the
clock: rooms 2 days after they end, final orders 2 days, delivered outbox entries 1 day,
dead letters 2 days, buy idempotency records 1 day after the sale's last buy, daily
buyer counts 2 days, the discovery window (and so the like budgets) and the chat
buckets one hour.

The figures are provisional on a shared machine; the shape (flat after the window) is
what matters.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import gen_key_table
from aiohttp import web

from livecommerce.app import create_app
from livecommerce.auth import Role, issue_token
from livecommerce.config import build_settings
from livecommerce.store.decoding import as_text
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import ROOMS, STORE

DAY = 86_400.0
PREFIX = "lc:soak:"
SECRET = "soak-signing-secret-0123456789abcdef0123"
PLACEHOLDERS = {
    "ROOM": r"[^:{}]+",
    "SALE": r"[^:{}]+",
    "ORDER": r"[^:{}]+",
    "REPLAY": r"[^:{}]+",
    "VOUCHER": r"[^:{}]+",
    "AUCTION": r"[^:{}]+",
    "GIVEAWAY": r"[^:{}]+",
    "USER": r"[^{}]+",
    "SLOT": r"-?\d+",
    "MSG": r"[0-9]+-[0-9]+",
    "STEP": r"[a-z_]+",
    "YYYY-MM-DD": r"\d{4}-\d{2}-\d{2}",
}


@dataclass
class Options:
    days: int
    day_s: float
    rooms_per_day: int
    viewers: int
    chat: int
    room_retention_days: float = 2.0
    order_retention_days: float = 2.0
    outbox_retention_days: float = 1.0
    dead_letter_retention_days: float = 2.0
    idempotency_days: float = 1.0
    daily_buyers_retention_days: float = 2.0

    def real_days(self, simulated: float) -> float:
        """``simulated`` days on the compressed clock, in real days."""
        return simulated * self.day_s / DAY

    @property
    def window_days(self) -> int:
        """Simulated days after which every scaled retention has passed once."""
        return (
            int(
                max(
                    self.room_retention_days,
                    self.order_retention_days + 1,
                    self.outbox_retention_days,
                    self.dead_letter_retention_days,
                    self.idempotency_days,
                    self.daily_buyers_retention_days,
                )
            )
            + 1
        )


@dataclass
class Sample:
    day: int
    used_memory: int
    keys: int
    families: Counter[str] = field(default_factory=Counter)


def families() -> list[tuple[str, re.Pattern[str]]]:
    tables = gen_key_table.schema_tables()
    result = []
    for cell, _kind, _contents in tables["key"].rows:
        key = re.sub(r"``(.+?)``", r"\1", cell)
        pattern = re.escape(key.removeprefix(gen_key_table.DOC_PREFIX))
        for placeholder, part in PLACEHOLDERS.items():
            pattern = pattern.replace(re.escape(placeholder), part)
        result.append((key.removeprefix(gen_key_table.DOC_PREFIX), re.compile(PREFIX + pattern)))
    return result


async def receiver(status: int) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/"


def token(role: str, user: str) -> str:
    return issue_token(SECRET, Role(role), user, None, 86_400)


class Traffic:
    """One simulated day's rooms, chat, likes, buys and settlements, through the API."""

    def __init__(self, http: aiohttp.ClientSession, url: str, app: web.Application) -> None:
        self.http, self.url, self.app = http, url, app
        self.counts: Counter[str] = Counter()

    async def api(self, method: str, path: str, who: str, body: Any = None) -> Any:
        async with self.http.request(
            method, self.url + path, json=body, headers={"Authorization": f"Bearer {who}"}
        ) as response:
            answer = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {answer}")
            return answer

    async def room(self, day: int, n: int, options: Options) -> None:
        anchor, backend = token("anchor", f"anchor{n}"), token("backend", "shop")
        room = (await self.api("POST", "/api/rooms", anchor, {"title": f"Day {day} #{n}"}))["id"]
        await self.app[ROOMS].go_live(room, f"soak-{day}-{n}", self.url, ttl_ms=600_000)
        item = {"sku": "S", "title": "Scarf", "price_cents": 5000, "currency": "EUR"}
        product = await self.api("POST", f"/api/rooms/{room}/products", anchor, item)
        await self.api("POST", f"/api/rooms/{room}/pin", anchor, {"product_id": product["id"]})
        terms = {
            "product_id": product["id"], "price_cents": 2500, "quantity": options.viewers,
            "per_user_limit": 1, "duration_s": 3600,
            "reservation_ttl_s": max(1, int(options.day_s / 2)),
        }  # fmt: skip
        sale = await self.api("POST", f"/api/rooms/{room}/sales", anchor, terms)
        orders = []
        for v in range(options.viewers):
            user = f"viewer{day}-{n}-{v}"
            ws_url = f"{self.url}/ws/rooms/{room}"
            params = {"format": "json", "token": token("viewer", user)}
            async with self.http.ws_connect(ws_url, params=params) as ws:
                await ws.receive_json(timeout=10)  # welcome
                for line in range(max(1, options.chat // options.viewers)):
                    await ws.send_json({"type": "chat", "text": f"hello {line}"})
                await ws.send_json({"type": "like", "count": 3})
                await ws.send_json({"type": "buy", "sale": sale["id"], "qty": 1, "key": "k"})
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    frame = await ws.receive_json(timeout=10)
                    if frame.get("type") == "buy_result" and frame.get("ok"):
                        orders.append(str(frame["order"]))
                        break
                self.counts["chat"] += max(1, options.chat // options.viewers)
        mod = token("moderator", "mia")
        mute = {"user": f"viewer{day}-{n}-0", "duration_s": 60}
        await self.api("POST", f"/api/rooms/{room}/moderation/mute-user", mod, mute)
        for index, order in enumerate(orders):
            action = ("paid", "cancel", None)[index % 3]
            if action is None:
                self.counts["left to expire"] += 1
                continue
            try:
                await self.api("POST", f"/api/orders/{order}/{action}", backend)
                self.counts[action] += 1
            except RuntimeError as error:
                if "409" not in str(error):
                    raise
                self.counts["expired before settled"] += 1
        self.counts["orders"] += len(orders)
        await self.api("POST", f"/api/rooms/{room}/sales/{sale['id']}/stop", anchor)
        await self.api("POST", f"/api/rooms/{room}/end", anchor)
        self.counts["rooms"] += 1


async def sample(
    app: web.Application, day: int, known: list[tuple[str, re.Pattern[str]]]
) -> Sample:
    store = app[STORE]
    info = await store.info("memory")
    result = Sample(day, int(info["used_memory"]), 0)
    async for raw in store.scan_iter(match=f"{PREFIX}*", count=1000):
        key = as_text(raw)
        result.keys += 1
        name = next((name for name, pattern in known if pattern.fullmatch(key)), "(unknown)")
        result.families[name] += 1
    return result


def settings_for(options: Options, store_url: str, data_dir: str, hooks: list[str]) -> Any:
    hook_secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    day_s = options.day_s
    layers = {
        "server": {"port": 0, "max_connections_per_address": 0},
        "channel": {
            "max_sockets_per_address": 0,
            "chat_burst": 1000,
            "chat_per_s": 1000.0,
            "chat_idle_ttl_s": max(1.0, day_s / 24),
        },
        "media": {"max_sessions_per_address": 0},
        "store": {"url": store_url, "data_dir": data_dir, "key_prefix": PREFIX},
        "auth": {"secret": SECRET},
        # Like budgets live as long as the discovery window: one simulated hour here.
        "discovery": {"window_s": max(1, int(day_s / 24)), "buckets": 1},
        "rooms": {
            "retention_days": options.real_days(options.room_retention_days),
            "sweep_interval_s": max(0.2, day_s / 20),
        },
        "commerce": {
            "order_retention_days": options.real_days(options.order_retention_days),
            "sweep_interval_s": 0.2,
            "idempotency_ttl_s": options.real_days(options.idempotency_days) * DAY,
            "daily_buyers_retention_days": options.real_days(options.daily_buyers_retention_days),
        },
        "hooks": {
            "endpoints": [{"url": url, "secret": hook_secret} for url in hooks],
            "retention_days": options.real_days(options.outbox_retention_days),
            "dead_letter_retention_days": options.real_days(options.dead_letter_retention_days),
            "trim_interval_s": max(0.2, day_s / 20),
            "poll_interval_s": 0.1,
            "initial_backoff_s": 0.05,
            "max_backoff_s": 0.5,
            "max_attempts": 3,
        },
    }
    return build_settings([("soak", layers)])


def report(samples: list[Sample], options: Options, counts: Counter[str]) -> None:
    names = sorted({name for s in samples for name in s.families})
    say(f"traffic: {dict(counts)}")
    say(f"{'day':>4} {'used_memory':>12} {'keys':>7}  keys by family")
    for s in samples:
        top = ", ".join(f"{n}={s.families[n]}" for n in names if s.families[n])
        say(f"{s.day:>4} {s.used_memory:>12,} {s.keys:>7}  {top}")
    steady = [s for s in samples if s.day >= options.window_days]
    if len(steady) < 2:
        say(f"growth: run more than {options.window_days + 1} days to see the steady state")
        return
    span = steady[-1].day - steady[0].day
    keys_per_day = (steady[-1].keys - steady[0].keys) / span
    bytes_per_day = (steady[-1].used_memory - steady[0].used_memory) / span
    say(
        f"growth per simulated day after the retention window (days {steady[0].day}-"
        f"{steady[-1].day}): {keys_per_day:+.1f} keys/day, {bytes_per_day:+,.0f} bytes/day"
    )
    for name in names:
        growth = (steady[-1].families[name] - steady[0].families[name]) / span
        if growth:
            say(f"  {name}: {growth:+.1f} keys/day")


def say(line: str) -> None:
    print(line, flush=True)


async def soak(options: Options) -> None:
    with tempfile.TemporaryDirectory(prefix="lc-soak-") as tmp:
        store = EmbeddedValkey(Path(tmp) / "store")
        await store.start_async()
        live, live_url = await receiver(200)
        gone, gone_url = await receiver(410)
        try:
            settings = settings_for(options, store.url, tmp, [live_url, gone_url])
            app = create_app(settings)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            known = families()
            samples = []
            counts: Counter[str] = Counter()
            say(
                f"soak: {options.days} days of {options.day_s:g} s, "
                f"{options.rooms_per_day} rooms a day, {options.viewers} viewers a room; "
                f"retention (simulated days): rooms {options.room_retention_days:g}, "
                f"orders {options.order_retention_days:g}, outbox "
                f"{options.outbox_retention_days:g}, dead letters "
                f"{options.dead_letter_retention_days:g}, buy idempotency "
                f"{options.idempotency_days:g}, daily buyers "
                f"{options.daily_buyers_retention_days:g}; chat buckets one hour"
            )
            async with aiohttp.ClientSession() as http:
                for day in range(options.days):
                    began = time.monotonic()
                    traffic = Traffic(http, url, app)
                    await asyncio.gather(
                        *(traffic.room(day, n, options) for n in range(options.rooms_per_day))
                    )
                    counts.update(traffic.counts)
                    left = options.day_s - (time.monotonic() - began)
                    if left < 0:
                        say(f"day {day}: the traffic took {-left:.1f} s longer than a day")
                    await asyncio.sleep(max(0.0, left))
                    samples.append(await sample(app, day + 1, known))
                    last = samples[-1]
                    say(f"day {day + 1}: {last.keys} keys, used_memory {last.used_memory:,}")
            await runner.cleanup()
            report(samples, options, counts)
        finally:
            await live.cleanup()
            await gone.cleanup()
            store.stop()


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=8, help="simulated days (default 8)")
    parser.add_argument(
        "--day-s", type=float, default=30.0, help="real seconds per simulated day (default 30)"
    )
    parser.add_argument("--rooms-per-day", type=int, default=6)
    parser.add_argument("--viewers", type=int, default=6, help="viewers (buyers) per room")
    parser.add_argument("--chat", type=int, default=18, help="chat lines per room")
    args = parser.parse_args(argv)
    return Options(args.days, args.day_s, args.rooms_per_day, args.viewers, args.chat)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    asyncio.run(soak(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
