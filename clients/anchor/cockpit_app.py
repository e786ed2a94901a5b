"""``livecommerce-anchor``'s full-screen console (Textual): one screen to run a live room.

The status bar runs along the top; chat with its reply box on the left;
products, the flash sale, the orders feed and the stream's health on the
right. Every action has a key (``?`` lists them) and a command in the
palette (Ctrl+P). A refused call shows as a toast, never a traceback; the
screen is redrawn from the model after every change, so any terminal size
(down to 40×12) keeps a usable layout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Input

from clients.anchor.api import AnchorApiError
from clients.anchor.channel import NotConnectedError
from clients.anchor.cockpit_format_forms import AuctionScreen, GiveawayScreen, VoucherScreen
from clients.anchor.cockpit_forms import (
    AddProductScreen,
    HelpScreen,
    ImageFile,
    ImageScreen,
    Moderate,
    ModerateScreen,
    StartSaleScreen,
)
from clients.anchor.cockpit_link import CockpitLink
from clients.anchor.cockpit_panes import (
    ChatPane,
    FormatsPane,
    HealthPane,
    OrdersPane,
    ProductsPane,
    SalePane,
    StatusBar,
)
from clients.anchor.commands import AddProduct, StartSale
from clients.anchor.format_commands import FormatCall, parse_format_command
from clients.anchor.line_console import sale_terms

MUTE_FOR_S = 600
TOLD_KEEP = 50
FOOTER_KEYS = ("question_mark", "a", "s", "x", "q")
TICK_S = 1.0
# (key, action, description): the footer, the help screen and the palette agree.
ACTIONS = (
    ("question_mark", "help", "Help"),
    ("i", "focus_reply", "Write in chat"),
    ("r", "reply", "Reply to the picked chat line"),
    ("t", "pin_chat", "Pin the picked chat line on top"),
    ("m", "moderate", "Moderate the picked chat line"),
    ("a", "add_product", "Add a product"),
    ("p", "pin_product", "Pin the picked product for viewers"),
    ("g", "product_image", "Give the picked product an image"),
    ("s", "start_sale", "Start a flash sale"),
    ("x", "stop_sale", "Stop the running sale"),
    ("v", "drop_voucher", "Drop a voucher"),
    ("b", "start_auction", "Start an auction of the picked product"),
    ("w", "start_giveaway", "Start a giveaway"),
    ("n", "pin_voucher", "Pin the picked voucher for every viewer"),
    ("e", "end_format", "End the picked voucher, auction or giveaway"),
    ("u", "refresh", "Refresh stats and products"),
    ("q", "quit_console", "Quit (ends the stream)"),
)


class ToastLog(logging.Handler):
    """Warnings of the client's own loops go to a toast, not over the screen."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(logging.WARNING)
        self._app = app

    def emit(self, record: logging.LogRecord) -> None:
        self._app.notify(record.getMessage()[:300], severity="error", markup=False)


class CockpitApp(App[int]):
    """The anchor's console; ``stop`` is set when it quits (and quits when set)."""

    TITLE = "livecommerce anchor"
    # Narrow terminals stack the panes; short ones drop the orders and health row and
    # shrink the sale pane, so every pane stays inside the screen at any size.
    # (App declares them as class variables of list type, which mypy would not let a ClassVar
    # annotation here override.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (90, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (28, "-tall")]  # noqa: RUF012
    CSS = """
    Screen { layout: vertical; }
    #main { height: 1fr; }
    ChatPane { width: 2fr; }
    #right { width: 3fr; }
    ProductsPane { height: 1fr; }
    FormatsPane { height: 1fr; min-height: 4; }
    #bottom { height: 1fr; }
    OrdersPane { width: 3fr; }
    HealthPane { width: 2fr; }
    .-narrow #main { layout: vertical; }
    .-narrow ChatPane, .-narrow #right { width: 1fr; height: 1fr; }
    .-short #bottom { display: none; }
    .-short SalePane { height: 1fr; max-height: 5; }
    .-short FormatsPane { min-height: 0; max-height: 5; }
    .-short.-narrow FormatsPane { display: none; }
    .-short Footer { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, action, text, show=key in FOOTER_KEYS) for key, action, text in ACTIONS),
        Binding("ctrl+q", "quit_console", "Quit", show=False, priority=True),
        Binding("escape", "focus_chat", "Chat list", show=False),
    ]

    def __init__(self, link: CockpitLink, stop: asyncio.Event) -> None:
        super().__init__()
        self.link = link
        self.stop = stop
        self._drawn = -1
        self.told: deque[tuple[str, str]] = deque(maxlen=TOLD_KEEP)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            yield ChatPane(id="chat-pane")
            with Vertical(id="right"):
                yield ProductsPane(id="products-pane")
                yield SalePane(id="sale-pane")
                yield FormatsPane(id="formats-pane")
                with Horizontal(id="bottom"):
                    yield OrdersPane(id="orders-pane")
                    yield HealthPane(id="health")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = f"room {self.link.options.room}"
        self.link.on_change = self.redraw
        self.link.on_notice = self.tell
        self.link.on_room_ended = self.stop.set
        self.link.start()
        self.set_interval(TICK_S, self._tick)
        self.redraw()
        self.query_one("#chat").focus()
        self._watch_stop()

    async def on_unmount(self) -> None:
        self.stop.set()
        await self.link.stop()

    @work(exclusive=True, group="stop")
    async def _watch_stop(self) -> None:
        await self.stop.wait()
        self.exit(0)

    def redraw(self) -> None:
        """Draw every pane from the model if it changed since the last drawing."""
        model = self.link.model
        if model.version == self._drawn or not self.is_running:
            return
        self._drawn = model.version
        self._draw_all()

    def _draw_all(self) -> None:
        model = self.link.model
        with contextlib.suppress(NoMatches):  # the app is closing: its panes are gone
            panes = self._panes()
            panes.query_one(StatusBar).show(model)
            panes.query_one(ChatPane).show(model)
            panes.query_one(ProductsPane).show(model)
            panes.query_one(SalePane).show(model)
            panes.query_one(FormatsPane).show(model)
            panes.query_one(OrdersPane).show(model)
            panes.query_one(HealthPane).show(model)

    def _tick(self) -> None:  # the countdown and likes/min move without any frame
        with contextlib.suppress(NoMatches):
            panes = self._panes()
            panes.query_one(StatusBar).show(self.link.model)
            panes.query_one(SalePane).show(self.link.model)
            panes.query_one(FormatsPane).show(self.link.model)

    def _panes(self) -> Screen[Any]:
        """The screen the panes are on, under any dialog, help or palette on top of it;
        NoMatches once the app is closing."""
        if not self.screen_stack:
            raise NoMatches("the app has no screen")
        return self.screen_stack[0]

    def tell(self, text: str, error: bool = False) -> None:
        """A toast; ``told`` keeps the last ones (what the anchor was shown, in order)."""
        self.told.append(("error" if error else "information", text))
        self.notify(text, severity="error" if error else "information", markup=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for _key, action, text in ACTIONS:
            yield SystemCommand(text, f"key: {_key.replace('question_mark', '?')}",
                                getattr(self, f"action_{action}"))  # fmt: skip

    # Chat

    def action_focus_reply(self) -> None:
        self.query_one("#reply", Input).focus()

    def action_focus_chat(self) -> None:
        self.query_one("#chat").focus()

    def action_reply(self) -> None:
        line = self.query_one(ChatPane).picked(self.link.model)
        box = self.query_one("#reply", Input)
        if line is not None:
            box.value = f"@{line.user} "
            box.cursor_position = len(box.value)
        box.focus()

    def action_pin_chat(self) -> None:
        model = self.link.model
        line = self.query_one(ChatPane).picked(model)
        model.pinned_chat = None if line is None or model.pinned_chat == line else line
        model.version += 1
        self.redraw()

    def action_moderate(self) -> None:
        line = self.query_one(ChatPane).picked(self.link.model)
        if line is None:
            self.tell("pick a chat line first (↑/↓ in the chat pane)", True)
            return
        self.push_screen(ModerateScreen(line), self._moderated)

    def _moderated(self, choice: Moderate | None) -> None:
        if choice is not None:
            self._call(self._moderate(choice))

    async def _moderate(self, choice: Moderate) -> str:
        api, line = self.link.api, choice.line
        if choice.action == "delete":
            await api.delete_message(line.id)
            return f"deleted {line.user}'s message"
        if choice.action == "mute-user":
            await api.moderate("mute-user", {"user": line.user, "duration_s": MUTE_FOR_S})
            return f"muted {line.user} for {MUTE_FOR_S // 60} minutes"
        await api.moderate("ban", {"user": line.user, "reason": f"chat: {line.text[:100]}"})
        return f"banned {line.user}"

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "reply":
            return
        text = event.value.strip()
        if not text:
            return
        try:
            await self.link.channel.send({"type": "chat", "text": text})
        except NotConnectedError as error:
            self.tell(str(error), True)
            return
        event.input.value = ""

    # Products and sales

    def action_add_product(self) -> None:
        values = {"currency": self.link.options.currency}
        self.push_screen(AddProductScreen(values), self._product_given)

    def _product_given(self, command: object) -> None:
        if isinstance(command, AddProduct):
            self._call(self._add_product(command))

    async def _add_product(self, command: AddProduct) -> str:
        product = await self.link.api.add_product(
            command.sku, command.title, command.price_cents, command.currency or "EUR"
        )
        self.link.model.set_products([product])
        self.redraw()
        return f"added {product['title']} ({product['id']})"

    def action_pin_product(self) -> None:
        product_id = self.query_one(ProductsPane).picked()
        if product_id is None:
            self.tell("no product yet: press a to add one", True)
            return
        self._call(self._pin(product_id))

    async def _pin(self, product_id: str) -> str:
        product = await self.link.api.pin(product_id)
        return f"pinned {product['title']}"

    def action_product_image(self) -> None:
        values = {"product": self.query_one(ProductsPane).picked() or ""}
        self.push_screen(ImageScreen(values), self._image_given)

    def _image_given(self, choice: object) -> None:
        if isinstance(choice, ImageFile):
            self._call(self._upload(choice))

    async def _upload(self, choice: ImageFile) -> str:
        try:
            image = await asyncio.to_thread(choice.path.read_bytes)
        except OSError as error:
            return f"cannot read {choice.path}: {error.strerror}"
        product = await self.link.api.upload_image(choice.product_id, image)
        self.link.model.set_products([product])
        self.redraw()
        return f"image set for {product['title']}"

    def action_start_sale(self) -> None:
        product_id = self.query_one(ProductsPane).picked() or ""
        product = self.link.model.products.get(product_id, {})
        values = StartSaleScreen.defaults(product_id, int(product.get("price_cents", 0)))
        self.push_screen(StartSaleScreen(values), self._sale_given)

    def _sale_given(self, command: object) -> None:
        if isinstance(command, StartSale):
            self._call(self._start_sale(command))

    async def _start_sale(self, command: StartSale) -> str:
        sale = await self.link.api.start_sale(sale_terms(command))
        return f"sale {sale['id']} started"

    def action_stop_sale(self) -> None:
        sale = self.link.model.current_sale()
        if sale is None or sale.status not in ("open", "scheduled"):
            self.tell("no sale is running", True)
            return
        self._call(self._stop_sale(sale.id))

    async def _stop_sale(self, sale_id: str) -> str:
        await self.link.api.stop_sale(sale_id)
        return f"sale {sale_id} stopped"

    # Vouchers, auctions, giveaways

    def action_drop_voucher(self) -> None:
        values = {"quantity": "100", "limit": "1", "expires": "30m"}
        self.push_screen(VoucherScreen(values), self._format_given)

    def action_start_auction(self) -> None:
        product_id = self.query_one(ProductsPane).picked() or ""
        product = self.link.model.products.get(product_id, {})
        values = {
            "product": product_id,
            "start": str(product.get("price_cents", "")),
            "duration": "30s",
            "snipe": "10s",
            "sudden": "n",
        }
        self.push_screen(AuctionScreen(values), self._format_given)

    def action_start_giveaway(self) -> None:
        values = {"winners": "1", "duration": "2m", "buyers": "n"}
        self.push_screen(GiveawayScreen(values), self._format_given)

    def action_pin_voucher(self) -> None:
        picked = self.query_one(FormatsPane).picked() or ""
        kind, _, ident = picked.partition(":")
        if kind != "voucher":
            self.tell("pick a voucher first (the formats pane, ↑/↓)", True)
            return
        self._call(self._run_format(parse_format_command("voucher", ["pin", ident])))

    def action_end_format(self) -> None:
        picked = self.query_one(FormatsPane).picked()
        if picked is None:
            self.tell("no voucher, auction or giveaway yet: press v, b or w", True)
            return
        kind, _, ident = picked.partition(":")
        self._call(self._run_format(parse_format_command(kind, ["end", ident])))

    def _format_given(self, call: object) -> None:
        if isinstance(call, FormatCall):
            self._call(self._run_format(call))

    async def _run_format(self, call: FormatCall) -> str:
        answer = await self.link.api.format_call(call.method, call.path, call.body)
        board = self.link.model.formats
        board.put(call.kind, answer)
        if call.path.endswith("/pin"):
            board.pinned_voucher = str(answer["id"])
        self.link.model.version += 1
        winners = answer.get("winners")
        won = f", won by {', '.join(winners) or 'nobody'}" if isinstance(winners, list) else ""
        return f"{call.kind} {answer.get('id')}: {answer.get('status')}{won}"

    def action_refresh(self) -> None:
        self._call(self._refresh())

    async def _refresh(self) -> str:
        await self.link.refresh_products()
        await self.link.refresh_stats()
        return "refreshed"

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_quit_console(self) -> None:
        self.stop.set()
        self.exit(0)

    def _call(self, job: Any) -> None:
        """Run one server call in the background; its answer or refusal becomes a toast."""
        self.run_worker(self._answer(job), group="calls")

    async def _answer(self, job: Any) -> None:
        try:
            self.tell(await job)
        except AnchorApiError as error:
            self.tell(f"{error.code}: {error.message}", True)
        self.redraw()
