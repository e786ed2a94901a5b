"""The vouchers, auctions and giveaways of the room as the full-screen console shows them.

Pure state, no I/O and no Textual: :class:`FormatsBoard` takes the welcome's
``formats``, the formats' broadcasts and the REST answers to the anchor's own
calls, and :meth:`FormatsBoard.rows` gives one line per format, live ones first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from clients.anchor.room_view import Frame, money

# Formats kept on the board (the oldest ended ones go first).
BOARD_KEEP = 50
LIVE = {"ready", "live", "open", "drawing"}
KINDS = ("voucher", "auction", "giveaway")


@dataclass(frozen=True)
class BoardRow:
    """One format on the board: ``key`` is ``KIND:ID``, ``text`` what the row says."""

    key: str
    kind: str
    id: str
    live: bool
    text: str


@dataclass
class FormatsBoard:
    """Every voucher, auction and giveaway seen in this session, by ``KIND:ID``."""

    items: dict[str, Frame] = field(default_factory=dict)
    pinned_voucher: str | None = None

    def welcome(self, formats: Frame) -> None:
        for kind in KINDS:
            for item in formats.get(f"{kind}s", []):
                self.put(kind, item)
        pinned = formats.get("pinned_voucher")
        if isinstance(pinned, dict):
            self.put("voucher", pinned)
            self.pinned_voucher = str(pinned["id"])

    def put(self, kind: str, item: Frame) -> None:
        """A format as the API answers it (a newer answer replaces what was known)."""
        key = f"{kind}:{item['id']}"
        self.items[key] = {**self.items.get(key, {}), **item, "kind": kind}
        while len(self.items) > BOARD_KEEP:
            ended = [k for k, v in self.items.items() if v.get("status") not in LIVE]
            del self.items[(ended or list(self.items))[0]]

    def apply(self, frame: Frame) -> bool:
        """Take a formats broadcast; whether the board changed."""
        kind = str(frame.get("type"))
        if kind in ("voucher_dropped", "voucher_pinned", "voucher_ended"):
            self.put("voucher", frame["voucher"])
            if kind == "voucher_pinned":
                self.pinned_voucher = str(frame["voucher"]["id"])
            return True
        if kind == "voucher_stock":
            return self._update("voucher", frame["voucher"], left=int(frame["left"]))
        if kind == "auction_started":
            self.put("auction", frame["auction"])
            return True
        if kind == "auction_bid":
            return self._update(
                "auction",
                frame["auction"],
                leader=frame["leader"],
                amount_cents=int(frame["amount_cents"]),
                ends_at=int(frame["ends_at"]),
                bids=int(frame["bids"]),
            )
        if kind == "auction_ended":
            return self._update(
                "auction",
                frame["auction"],
                status="ended",
                winner=frame["winner"],
                amount_cents=int(frame["amount_cents"]),
                order=frame["order"],
                no_sale=frame.get("reason"),
            )
        if kind == "giveaway_started":
            self.put("giveaway", frame["giveaway"])
            return True
        if kind == "giveaway_ended":
            return self._update(
                "giveaway",
                frame["giveaway"],
                status="ended",
                winners=list(frame["winners"]),
                seed=frame["seed"],
                entrants=int(frame["entrants_count"]),
            )
        return False

    def _update(self, kind: str, ident: object, **change: object) -> bool:
        item = self.items.get(f"{kind}:{ident}")
        if item is None:
            self.items[f"{kind}:{ident}"] = {"id": str(ident), "kind": kind, **change}
        else:
            item.update(change)
        return True

    def rows(self, product_name: dict[str, str], now_ms: int | None = None) -> list[BoardRow]:
        """The board's lines, live formats first, newest first within each."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        rows = []
        for key, item in reversed(self.items.items()):
            kind = str(item["kind"])
            text = _TEXTS[kind](self, item, product_name, now)
            live = str(item.get("status", "live")) in LIVE
            rows.append(BoardRow(key, kind, str(item["id"]), live, text))
        return sorted(rows, key=lambda row: not row.live)


def _left(ends_at: object, now: int) -> str:
    if not isinstance(ends_at, int) or ends_at <= 0:
        return ""
    seconds = max(0, (ends_at - now + 999) // 1000)
    return f" · {seconds // 60}:{seconds % 60:02d} left"


def _voucher(board: FormatsBoard, item: Frame, _names: dict[str, str], now: int) -> str:
    off = (
        f"{item['percent_off']}% off"
        if item.get("percent_off")
        else money(int(item.get("discount_cents") or 0), "") + " off"
    )
    pin = " · PINNED" if board.pinned_voucher == item["id"] else ""
    status = str(item.get("status", "live"))
    expiry = _left(item.get("expires_at"), now) if status == "live" else ""
    return (
        f"voucher {item['id']} {item.get('title', '')!r} {off.strip()} · {status} · "
        f"{item.get('left', '?')}/{item.get('quantity', '?')} left{expiry}{pin}"
    )


def _auction(_board: FormatsBoard, item: Frame, names: dict[str, str], now: int) -> str:
    product = item.get("title") or names.get(str(item.get("product_id")), item.get("product_id"))
    currency = str(item.get("currency", ""))
    amount = item.get("amount_cents")
    start = int(item.get("start_price_cents") or 0)
    if item.get("status") == "ended":
        if item.get("winner"):
            price = money(int(amount or 0), currency)
            return f"auction {item['id']} {product} · won by {item['winner']} at {price}"
        return f"auction {item['id']} {product} · ended unsold ({item.get('no_sale') or 'no_bids'})"
    if item.get("leader"):
        lead = f"{item['leader']} leads at {money(int(amount or 0), currency)}"
    else:
        lead = f"no bids yet, starts at {money(start, currency)}"
    bids = f" ({item.get('bids', 0)} bids)"
    return f"auction {item['id']} {product} · {lead}{bids}{_left(item.get('ends_at'), now)}"


def _giveaway(_board: FormatsBoard, item: Frame, _names: dict[str, str], now: int) -> str:
    head = f"giveaway {item['id']} {item.get('title', '')!r}"
    if item.get("status") == "ended":
        winners = ", ".join(item.get("winners") or []) or "nobody"
        entrants = item.get("entrants")
        of = f" of {entrants} entrants" if entrants is not None else ""
        return f"{head} · won by {winners}{of} · seed {item.get('seed') or '?'}"
    wanted, ends = item.get("winners_wanted", "?"), _left(item.get("ends_at"), now)
    return f"{head} · {item.get('status', 'open')} · {wanted} to win{ends}"


_TEXTS = {"voucher": _voucher, "auction": _auction, "giveaway": _giveaway}
