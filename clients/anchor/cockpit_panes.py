"""The full-screen console's panes, each drawn from the :class:`CockpitModel` it is given.

A pane never calls the server: :meth:`show` takes the model and redraws, so
the app can redraw all of them after any change and a test can read them.
Text from the room (chat, titles, user names) is shown as plain text, never
as markup, so a viewer cannot style or hide anything on the anchor's screen.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, ProgressBar, RichLog, Static

from clients.anchor.cockpit_model import ChatLine, CockpitModel, product_row
from clients.anchor.room_view import money


class StatusBar(Static):
    """One line: live/offline, send rates, viewers, likes/min, orders, GMV."""

    DEFAULT_CSS = "StatusBar { dock: top; height: 1; background: $panel; padding: 0 1; }"

    def show(self, model: CockpitModel) -> None:
        media, state = model.media, model.state
        if media.live:
            badge = ("● LIVE", "bold white on red")
        elif media.reconnecting:
            badge = ("◌ RECONNECTING", "bold black on yellow")
        else:
            badge = ("○ OFFLINE", "bold white on grey37")
        self.update(
            Text.assemble(
                badge,
                f"  {media.bitrate_kbps:,.0f} kb/s  {media.fps:.0f} fps",
                f"  │ viewers {state.viewers}",
                f"  │ likes/min {model.likes_per_minute()}",
                f"  │ orders {state.orders} ({state.paid_orders} paid)",
                f"  │ GMV {model.gmv()}",
            )
        )


class ChatPane(Vertical):
    """The room's chat (pick a line with ↑/↓) and the reply box."""

    DEFAULT_CSS = """
    ChatPane { border: round $primary; border-title-color: $text; }
    ChatPane #pinned-chat { height: auto; max-height: 3; color: $warning; }
    ChatPane DataTable { height: 1fr; }
    ChatPane Input { dock: bottom; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="pinned-chat")
        table: DataTable[Text] = DataTable(id="chat", cursor_type="row", zebra_stripes=True)
        yield table
        yield Input(
            placeholder="say something (i), Enter sends",
            id="reply",
            max_length=500,
            select_on_focus=False,
        )

    def on_mount(self) -> None:
        self.border_title = "Chat"
        table = self.query_one("#chat", DataTable)
        table.add_column("who", width=14, key="who")
        table.add_column("message", key="text")

    def show(self, model: CockpitModel) -> None:
        table: DataTable[Text] = self.query_one("#chat", DataTable)
        shown = {str(key.value) for key in table.rows}
        for gone in [key for key in shown if key not in {m.id for m in model.chat}]:
            table.remove_row(gone)
        at_end = table.cursor_row >= table.row_count - 1
        for line in model.chat:
            if line.id not in shown:
                style = "bold cyan" if line.role != "viewer" else "green"
                table.add_row(Text(line.user, style=style), Text(line.text), key=line.id)
        if at_end and table.row_count:
            table.move_cursor(row=table.row_count - 1)
        pinned = model.pinned_chat
        note = (
            Text.assemble(("PINNED ", "bold"), (pinned.user, "bold"), ": ", pinned.text)
            if pinned
            else ""
        )
        self.query_one("#pinned-chat", Static).update(note)

    def picked(self, model: CockpitModel) -> ChatLine | None:
        table: DataTable[Text] = self.query_one("#chat", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((line for line in model.chat if line.id == key), None)


class ProductsPane(Vertical):
    DEFAULT_CSS = "ProductsPane { border: round $primary; } ProductsPane DataTable { height: 1fr; }"
    _rows: list[tuple[str, str, str, str, str]] | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="products", cursor_type="row")

    def on_mount(self) -> None:
        self.border_title = "Products  (a add · p pin · s sale)"
        table = self.query_one("#products", DataTable)
        for label in ("pin", "id", "title", "price", "image"):
            table.add_column(label, key=label)

    def show(self, model: CockpitModel) -> None:
        products = sorted(model.products.values(), key=lambda p: str(p["id"]))
        rows = [product_row(product, model.state.pinned) for product in products]
        if rows == self._rows:
            return  # nothing to redraw (the stats polls change other panes)
        self._rows = rows
        table: DataTable[str] = self.query_one("#products", DataTable)
        row = table.cursor_row
        table.clear()
        for cells in rows:
            table.add_row(*cells, key=cells[1])
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def picked(self) -> str | None:
        table: DataTable[str] = self.query_one("#products", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


class SalePane(Vertical):
    """The running (or last) flash sale: stock bar, countdown, what was taken."""

    DEFAULT_CSS = """
    SalePane { border: round $primary; height: 7; }
    SalePane ProgressBar { width: 1fr; }
    SalePane Bar { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("no sale yet: pick a product and press s", id="sale-title")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="stock")
        yield Static("", id="sale-numbers")

    def on_mount(self) -> None:
        self.border_title = "Flash sale  (s start · x stop)"

    def show(self, model: CockpitModel) -> None:
        sale = model.current_sale()
        title = self.query_one("#sale-title", Static)
        numbers = self.query_one("#sale-numbers", Static)
        bar = self.query_one("#stock", ProgressBar)
        if sale is None:
            bar.update(total=1, progress=0)
            return
        name = model.state.product_name(sale.product_id)
        title.update(
            Text.assemble(
                (f"{sale.id} ", "dim"),
                (name, "bold"),
                f" at {money(sale.price_cents, sale.currency)}",
                (f"  [{sale.status}]", "bold green" if sale.status == "open" else "yellow"),
            )
        )
        bar.update(total=max(sale.quantity, 1), progress=sale.left)
        numbers.update(
            f"stock {sale.left}/{sale.quantity} left · {countdown(sale.ends_at, sale.status)}"
        )


def countdown(ends_at_ms: int, status: str) -> str:
    if status not in ("open", "scheduled"):
        return "ended"
    left = max(0, int(ends_at_ms / 1000 - time.time()))
    return f"ends in {left // 60}:{left % 60:02d}"


class FormatsPane(Vertical):
    """Vouchers, auctions and giveaways, live ones first; pick one with ↑/↓ to pin or end it."""

    DEFAULT_CSS = "FormatsPane { border: round $primary; } FormatsPane DataTable { height: 1fr; }"
    _rows: list[tuple[str, str]] | None = None

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="formats", cursor_type="row", show_header=False)
        yield table

    def on_mount(self) -> None:
        self.border_title = "Vouchers · auctions · giveaways  (v b w start · n pin · e end)"
        self.query_one("#formats", DataTable).add_column("format", key="format")

    def show(self, model: CockpitModel) -> None:
        board = model.formats.rows(model.state.product_titles)
        rows = [(row.key, row.text) for row in board]
        if rows == self._rows:
            return
        self._rows = rows
        table: DataTable[Text] = self.query_one("#formats", DataTable)
        picked = self.picked()
        table.clear()
        for row in board:
            table.add_row(Text(row.text, style="" if row.live else "dim"), key=row.key)
        keys = [key for key, _ in rows]
        if picked in keys:
            table.move_cursor(row=keys.index(picked))

    def picked(self) -> str | None:
        """``KIND:ID`` of the picked format, None when there is none."""
        table: DataTable[Text] = self.query_one("#formats", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


class OrdersPane(Vertical):
    DEFAULT_CSS = "OrdersPane { border: round $primary; } OrdersPane RichLog { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield RichLog(id="orders", max_lines=200, wrap=False, markup=False)

    def on_mount(self) -> None:
        self.border_title = "Orders"
        self._shown = 0

    def show(self, model: CockpitModel) -> None:
        log = self.query_one("#orders", RichLog)
        fresh = min(model.feed_count - self._shown, len(model.orders_feed))
        for line in list(model.orders_feed)[len(model.orders_feed) - fresh :]:
            log.write(Text(line))
        self._shown = model.feed_count


class HealthPane(Static):
    DEFAULT_CSS = "HealthPane { border: round $primary; height: 1fr; padding: 0 1; }"

    def on_mount(self) -> None:
        self.border_title = "Health"

    def show(self, model: CockpitModel) -> None:
        media = model.media
        stream = "live" if media.live else "reconnecting…" if media.reconnecting else "not live"
        channel = "connected" if model.channel_up else "reconnecting…"
        self.update(
            Text.assemble(
                ("stream  ", "bold"), stream, "\n",
                ("channel ", "bold"), channel, "\n",
                ("keyframe requests ", "bold"), str(media.keyframe_requests), "\n",
                ("frames dropped to viewers ", "bold"), str(media.frames_dropped), "\n",
                (media.notice, "dim"),
            )
        )  # fmt: skip
