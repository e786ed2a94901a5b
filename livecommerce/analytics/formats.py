"""The selling formats in a room's report: voucher claims, bids and giveaway entries
(totals and unique users), a row per voucher, auction and giveaway, the orders and GMV of
each order source, and the formats' markers on the time axis.

Everything read here is written by the formats' own scripts as they run
(``vouchers_claim.lua``, ``auctions_bid.lua``, ``giveaways_enter.lua``,
``auctions_close.lua``, ``giveaways_award.lua``, ``orders_settle.lua``, ``replays_buy.lua``);
reading is two pipelines plus one ``PFCOUNT`` per step that outgrew its exact set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from livecommerce.store.client import StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys

# The formats' steps: each is a field of the room's counters hash (the total) and the
# name of a visitor set / HyperLogLog pair (the unique users).
FORMAT_STEPS = ("voucher_claims", "bids", "giveaway_entries")
# Order sources a report always lists (others appear once they have orders).
SOURCES = ("sale", "auction", "giveaway", "replay")
SOURCE_PREFIX = "source:"
# Rows (and markers) per kind of format in a report: the newest, so a room with very many
# vouchers, auctions or giveaways keeps a bounded report; the totals count them all.
MAX_ROWS = 500


@dataclass(frozen=True)
class FormatsData:
    """What the store holds of a room's vouchers, auctions and giveaways."""

    users: dict[str, tuple[int, bool]] = field(default_factory=dict)  # (visitors, exact)
    vouchers: list[dict[str, str]] = field(default_factory=list)
    auctions: list[dict[str, str]] = field(default_factory=list)
    giveaways: list[dict[str, str]] = field(default_factory=list)


async def read_formats(client: StoreClient, keys: Keys, room_id: str) -> FormatsData:
    """The room's formats as the store holds them now."""
    pipe = client.pipeline(transaction=False)
    pipe.zrange(keys.vouchers(room_id), -MAX_ROWS, -1)
    pipe.zrange(keys.auctions(room_id), -MAX_ROWS, -1)
    pipe.zrange(keys.giveaways(room_id), -MAX_ROWS, -1)
    for step in FORMAT_STEPS:
        pipe.scard(keys.analytics_users(room_id, step))
        # PFCOUNT may not be pipelined on a cluster: EXISTS here, PFCOUNT below.
        pipe.exists(keys.analytics_hll(room_id, step))
    voucher_ids, auction_ids, giveaway_ids, *visitors = await pipe.execute()
    users: dict[str, tuple[int, bool]] = {}
    for n, step in enumerate(FORMAT_STEPS):
        exact, in_hll = int(visitors[2 * n]), int(visitors[2 * n + 1])
        estimate = int(await client.pfcount(keys.analytics_hll(room_id, step))) if in_hll else 0
        users[step] = (exact + estimate, estimate == 0)
    vouchers = [as_text(v) for v in voucher_ids]
    auctions = [as_text(a) for a in auction_ids]
    giveaways = [as_text(g) for g in giveaway_ids]
    if not (vouchers or auctions or giveaways):
        return FormatsData(users=users)
    pipe = client.pipeline(transaction=False)
    for voucher_id in vouchers:
        pipe.hgetall(keys.voucher(room_id, voucher_id))
        pipe.hlen(keys.voucher_users(room_id, voucher_id))
    for auction_id in auctions:
        pipe.hgetall(keys.auction(room_id, auction_id))
    for giveaway_id in giveaways:
        pipe.hgetall(keys.giveaway(room_id, giveaway_id))
        pipe.scard(keys.giveaway_entrants(room_id, giveaway_id))
    answers = iter(await pipe.execute())
    voucher_rows = [_fields(next(answers), claimers=next(answers)) for _ in vouchers]
    auction_rows = [_fields(next(answers)) for _ in auctions]
    giveaway_rows = [_fields(next(answers), entrants=next(answers)) for _ in giveaways]
    return FormatsData(
        users=users,
        vouchers=[row for row in voucher_rows if row.get("id")],
        auctions=[row for row in auction_rows if row.get("id")],
        giveaways=[row for row in giveaway_rows if row.get("id")],
    )


def _fields(raw: dict[Any, Any], **extra: int) -> dict[str, str]:
    fields = {as_text(k): as_text(v) for k, v in raw.items()}
    fields.update({name: str(int(value)) for name, value in extra.items()})
    return fields


def _int(fields: dict[str, str], name: str) -> int:
    value = fields.get(name, "")
    return int(value) if value.lstrip("-").isdigit() else 0


def _at(fields: dict[str, str], name: str) -> int | None:
    return _int(fields, name) or None


def formats_report(
    data: FormatsData, counters: dict[str, int], currency: str | None
) -> dict[str, Any]:
    """The report's ``formats`` object (see docs/analytics.md, "Selling formats")."""
    return {
        **{
            step: {
                "total": counters.get(step, 0),
                "users": data.users.get(step, (0, True))[0],
                "users_exact": data.users.get(step, (0, True))[1],
            }
            for step in FORMAT_STEPS
        },
        "orders": source_rows(counters, currency),
        "vouchers": [
            {
                "voucher": v["id"],
                "title": v.get("title", ""),
                "quantity": _int(v, "quantity"),
                "claimed": _int(v, "claimed"),
                "claimers": _int(v, "claimers"),
                "dropped_at": _at(v, "dropped_at"),
                "ended_at": _at(v, "ended_at"),
            }
            for v in data.vouchers
        ],
        "auctions": [
            {
                "auction": a["id"],
                "product": a.get("product_id", ""),
                "title": a.get("title", ""),
                "bids": _int(a, "bids"),
                "price_cents": _int(a, "price"),
                "currency": a.get("currency", ""),
                "winner": a.get("winner") or None,
                "order": a.get("order") or None,
                "starts_at": _at(a, "starts_at"),
                "ended_at": _at(a, "ended_at"),
            }
            for a in data.auctions
        ],
        "giveaways": [
            {
                "giveaway": g["id"],
                "product": g.get("product_id") or None,
                "title": g.get("title", ""),
                "entrants": _int(g, "entrants"),
                "winners": len(_winners(g)),
                "started_at": _at(g, "created_at"),
                "ended_at": _at(g, "closed_at"),
            }
            for g in data.giveaways
        ],
    }


def _winners(giveaway: dict[str, str]) -> list[str]:
    winners: list[str] = json.loads(giveaway["winners"]) if giveaway.get("winners") else []
    return winners


def source_rows(counters: dict[str, int], currency: str | None) -> list[dict[str, Any]]:
    """Orders, payments and GMV (in ``currency``) per order source. Other sources are
    counted by their scripts; a flash sale's are the room's totals less the others'. A
    giveaway's orders are counted paid (at price 0) when drawn."""
    per: dict[str, dict[str, int]] = {}
    for name, value in counters.items():
        if not name.startswith(SOURCE_PREFIX):
            continue
        source, _, metric = name.removeprefix(SOURCE_PREFIX).partition(":")
        row = per.setdefault(source, {"orders": 0, "paid": 0, "gmv_cents": 0})
        if metric in ("orders", "paid"):
            row[metric] += value
        elif currency and metric == f"gmv_cents:{currency}":
            row["gmv_cents"] += value
    gmv = counters.get(f"gmv_cents:{currency}", 0) if currency else 0
    per["sale"] = {
        "orders": counters.get("orders", 0) - sum(r["orders"] for r in per.values()),
        "paid": counters.get("paid_orders", 0) - sum(r["paid"] for r in per.values()),
        "gmv_cents": gmv - sum(r["gmv_cents"] for r in per.values()),
    }
    names = [*SOURCES, *sorted(set(per) - set(SOURCES))]
    empty = {"orders": 0, "paid": 0, "gmv_cents": 0}
    return [{"source": s, **per.get(s, empty), "currency": currency} for s in names]


def format_markers(data: FormatsData, base_ms: int, now_ms: int) -> list[dict[str, Any]]:
    """Voucher drops, auction starts and ends, giveaway starts and ends on the time axis
    (``t`` in seconds from the first slot, ``at`` in ms), those that have happened."""
    marks: list[dict[str, Any]] = []

    def mark(kind: str, at: int | None, product: str, **ids: str) -> None:
        if at and at <= now_ms:
            marks.append(
                {"t": (at - base_ms) / 1000, "at": at, "type": kind, "product": product, **ids}
            )

    for v in data.vouchers:
        mark("voucher_dropped", _at(v, "dropped_at"), "", voucher=v["id"])
    for a in data.auctions:
        product = a.get("product_id", "")
        mark("auction_started", _at(a, "starts_at"), product, auction=a["id"])
        mark("auction_ended", _at(a, "ended_at"), product, auction=a["id"])
    for g in data.giveaways:
        product = g.get("product_id", "")
        mark("giveaway_started", _at(g, "created_at"), product, giveaway=g["id"])
        mark("giveaway_ended", _at(g, "closed_at"), product, giveaway=g["id"])
    return marks
