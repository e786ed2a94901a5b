"""What the full-screen console shows, kept apart from drawing it.

:class:`CockpitModel` wraps the line console's :class:`ConsoleState` (same
frame handling, same stats) and adds what a screen needs and a log does not:
the chat as a bounded list of messages one can pick, the orders feed, the
likes of the last minute, the stream's send rates and the health counters.
No I/O and no Textual here: the tests of the state need neither.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from clients.anchor.cockpit_formats import FormatsBoard
from clients.anchor.room_view import ConsoleState, Frame, SaleView, money

# The chat pane keeps this many messages (older ones scroll away for good).
CHAT_KEEP = 500
ORDERS_KEEP = 200
LIKES_WINDOW_S = 60.0
# The formats' broadcasts that get a line in the orders feed (not every bid).
FEED_FORMATS = frozenset({"voucher_dropped", "voucher_ended", "auction_ended", "giveaway_ended"})


@dataclass(frozen=True)
class ChatLine:
    id: str
    user: str
    role: str
    text: str


@dataclass
class MediaRates:
    """The publication as the anchor's machine and the server see it."""

    live: bool = False
    reconnecting: bool = False
    bitrate_kbps: float = 0.0
    fps: float = 0.0
    keyframe_requests: int = 0
    frames_dropped: int = 0
    viewers_on_node: int = 0
    notice: str = ""


@dataclass
class CockpitModel:
    """The room from the anchor's seat; ``version`` grows with every change."""

    state: ConsoleState = field(default_factory=ConsoleState)
    chat: deque[ChatLine] = field(default_factory=lambda: deque(maxlen=CHAT_KEEP))
    orders_feed: deque[str] = field(default_factory=lambda: deque(maxlen=ORDERS_KEEP))
    formats: FormatsBoard = field(default_factory=FormatsBoard)
    # Whether the server sends the staff's orders feed (``room_order``): then the feed
    # says who reserved and who paid, and stock moves and stats polls need no line.
    order_frames: bool = False
    products: dict[str, Frame] = field(default_factory=dict)
    media: MediaRates = field(default_factory=MediaRates)
    channel_up: bool = False
    pinned_chat: ChatLine | None = None
    deleted: list[str] = field(default_factory=list)
    version: int = 0
    feed_count: int = 0
    _likes: deque[tuple[float, int]] = field(default_factory=deque)
    _last_frames: tuple[float, int] | None = None
    _last_bytes: tuple[float, int] | None = None

    def apply(self, frame: Frame, now: float | None = None) -> list[tuple[str, str]]:
        """Take one channel frame; the event lines of the line console (for toasts)."""
        kind = str(frame.get("type"))
        before = {sale_id: sale.left for sale_id, sale in self.state.sales.items()}
        likes_before = self.state.likes
        lines = self.state.apply(frame)
        if kind == "welcome":
            self.channel_up = True
            for message in frame.get("messages", []):
                self._add_chat(message)
            pinned = frame.get("pinned_product")
            if pinned:
                self.products[str(pinned["id"])] = dict(pinned)
            self.formats.welcome(frame.get("formats") or {})
        elif kind == "chat" and lines:
            self._add_chat(frame)
        elif kind == "chat_deleted":
            gone = str(frame.get("id"))
            self.chat = deque((m for m in self.chat if m.id != gone), maxlen=CHAT_KEEP)
            self.deleted.append(gone)
        elif kind == "product_pinned":
            self.products[str(frame["product"]["id"])] = dict(frame["product"])
        elif kind == "likes":
            self._count_likes(self.state.likes - likes_before, now)
        elif kind == "sale_stock":
            self._stock_moved(str(frame.get("sale")), before)
        elif kind in ("sale_ended", "sold_out", "sale_started"):
            for tag, text in lines:
                if tag == "sale":
                    self.feed(f"{_clock()} {text}")
        elif kind == "room_order":
            self.order_frames = True
            for _, text in lines:
                self.feed(f"{_clock()} {text}")
        elif self.formats.apply(frame) and kind in FEED_FORMATS:
            for _, text in lines:
                self.feed(f"{_clock()} {text}")
        self.version += 1
        return lines

    def apply_stats(self, stats: Frame) -> None:
        """Take ``GET /api/rooms/ROOM/stats``: orders, payments and GMV."""
        for _, text in self.state.apply_stats(stats):
            if not self.order_frames:
                self.feed(f"{_clock()} {text}")
        self.version += 1

    def apply_media(self, stats: Frame, now: float | None = None) -> None:
        """Take ``GET /api/rooms/ROOM/media``: fps received, keyframe requests, drops."""
        now = time.monotonic() if now is None else now
        video = stats.get("publication", {}).get("tracks", {}).get("video", {})
        frames = int(video.get("frames_in", 0))
        if self._last_frames is not None and now > self._last_frames[0]:
            then, before = self._last_frames
            self.media.fps = max(0.0, (frames - before) / (now - then))
        self._last_frames = (now, frames)
        self.media.keyframe_requests = int(video.get("keyframe_requests_sent", 0))
        self.media.viewers_on_node = int(stats.get("viewers", 0))
        self.media.frames_dropped = sum(
            int(track.get("frames_dropped", 0))
            for sub in stats.get("subscriptions", [])
            for track in dict(sub.get("tracks", {})).values()
        )
        self.version += 1

    def apply_sent_bytes(self, sent: int, now: float | None = None) -> None:
        """Bytes the publication has sent so far (the peer connection's outbound RTP)."""
        now = time.monotonic() if now is None else now
        last = self._last_bytes
        if last is not None and now > last[0] and sent >= last[1]:
            then, before = last
            self.media.bitrate_kbps = (sent - before) * 8 / 1000 / (now - then)
        self._last_bytes = (now, sent)
        self.version += 1

    def set_publication(self, *, live: bool, reconnecting: bool, notice: str = "") -> None:
        self.media.live, self.media.reconnecting = live, reconnecting
        if notice:
            self.media.notice = notice
        if not live:
            self.media.bitrate_kbps = self.media.fps = 0.0
            self._last_bytes = self._last_frames = None
        self.version += 1

    def set_products(self, products: list[Frame]) -> None:
        for product in products:
            self.products[str(product["id"])] = dict(product)
            self.state.remember_product(product)
        self.version += 1

    def feed(self, text: str) -> None:
        """Add a line to the orders feed (``feed_count`` counts every line ever added)."""
        self.orders_feed.append(text)
        self.feed_count += 1

    def likes_per_minute(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        while self._likes and self._likes[0][0] < now - LIKES_WINDOW_S:
            self._likes.popleft()
        return sum(count for _, count in self._likes)

    def current_sale(self) -> SaleView | None:
        """The newest sale that is still open or scheduled, else the newest one."""
        sales = list(self.state.sales.values())
        running = [s for s in sales if s.status in ("open", "scheduled")]
        pool = running or sales
        return max(pool, key=lambda s: (s.ends_at, s.id)) if pool else None

    def gmv(self) -> str:
        parts = sorted(self.state.gmv_cents.items())
        return ", ".join(money(cents, currency) for currency, cents in parts) or "0"

    def _add_chat(self, message: Frame) -> None:
        line = ChatLine(
            id=str(message.get("id", "")),
            user=str(message.get("user", "?")),
            role=str(message.get("role") or "viewer"),
            text=str(message.get("text", "")),
        )
        if any(m.id == line.id for m in self.chat):
            return
        self.chat.append(line)

    def _count_likes(self, added: int, now: float | None) -> None:
        if added > 0:
            self._likes.append((time.monotonic() if now is None else now, added))

    def _stock_moved(self, sale_id: str, before: dict[str, int]) -> None:
        sale = self.state.sales.get(sale_id)
        if sale is None or sale_id not in before or self.order_frames:
            return
        taken = before[sale_id] - sale.left
        name = self.state.product_name(sale.product_id)
        if taken > 0:
            self.feed(f"{_clock()} {taken} × {name} reserved ({sale.left}/{sale.quantity} left)")
        elif taken < 0:
            self.feed(
                f"{_clock()} {-taken} × {name} back in stock ({sale.left}/{sale.quantity} left)"
            )


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def product_row(product: dict[str, Any], pinned: str | None) -> tuple[str, str, str, str, str]:
    """(pin mark, id, title, price, image file name) for the products table."""
    image = str(product.get("image_url") or "")
    return (
        "PIN" if product.get("id") == pinned else "",
        str(product["id"]),
        str(product["title"]),
        money(int(product["price_cents"]), str(product["currency"])),
        _file_name(image) if image else "—",
    )


def _file_name(url: str) -> str:
    """The last part of an image URL; a stored upload's 64-hex name is cut to 12 digits."""
    name = url.rsplit("/", 1)[-1]
    stem, dot, extension = name.partition(".")
    return f"{stem[:12]}….{extension}" if len(stem) == 64 and dot else name
