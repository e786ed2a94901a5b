"""The full-screen console's dialogs: add a product, start a sale, act on a chat line, help.

Each dialog checks its fields before it closes (a wrong value is said under
the form, nothing reaches the server) and dismisses with a typed result, or
None when the anchor pressed Escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from clients.anchor.cockpit_model import ChatLine
from clients.anchor.commands import (
    CURRENCY,
    SALE_DEFAULT_DURATION_S,
    SALE_DEFAULT_LIMIT,
    SALE_DEFAULT_TTL_S,
    AddProduct,
    StartSale,
)
from clients.moderator.durations import parse_duration

HELP_TEXT = """\
[b]Keys[/b] (also in the command palette, Ctrl+P)

  [b]?[/b]        this help                [b]Ctrl+P[/b]  command palette
  [b]Tab[/b]      next pane                [b]q[/b]       quit (ends the stream)

  [b]Chat[/b]     [b]i[/b] write in chat     [b]r[/b] reply to the picked line
           [b]t[/b] pin the picked line on top of the chat pane (only you see it)
           [b]m[/b] moderate the picked line (delete, mute the user 10 min, ban)
           ↑/↓ pick a line;  Enter in the box sends it

  [b]Products[/b] [b]a[/b] add a product       [b]p[/b] pin the picked product for every viewer
           [b]g[/b] give the picked product an image (a file on this machine)
  [b]Sale[/b]     [b]s[/b] start a flash sale of the picked product
           [b]x[/b] stop the running sale   [b]u[/b] refresh stats now
  [b]Formats[/b]  [b]v[/b] drop a voucher        [b]b[/b] auction the picked product
           [b]w[/b] start a giveaway      ↑/↓ in the formats pane picks one:
           [b]n[/b] pin the picked voucher  [b]e[/b] end the picked voucher, auction, giveaway

A server's refusal shows as a toast in the corner; the health pane says
whether the stream and the room channel are connected.
"""


def _int_field(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value.strip()!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}")
    return number


def _seconds(value: str, name: str, default: int) -> int:
    text = value.strip()
    if not text:
        return default
    try:
        return int(parse_duration(text))
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


class FormScreen(ModalScreen[object]):
    """A dialog of labelled inputs; Enter or the button submits, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    FormScreen Grid { grid-size: 2; grid-columns: 18 1fr; height: auto; }
    FormScreen Label { padding: 1 0 0 0; }
    FormScreen #form-error { color: $error; height: auto; }
    """
    TITLE = ""
    FIELDS: tuple[tuple[str, str], ...] = ()

    def __init__(self, values: dict[str, str] | None = None) -> None:
        super().__init__()
        self._values = values or {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.TITLE}[/b]")
            with Grid():
                for key, label in self.FIELDS:
                    yield Label(label)
                    yield Input(self._values.get(key, ""), id=f"field-{key}")
            yield Static("", id="form-error")
            yield Button("OK (Enter)", variant="primary", id="submit")

    def value(self, key: str) -> str:
        return self.query_one(f"#field-{key}", Input).value

    def build(self) -> object:
        raise NotImplementedError

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self._submit()

    def _submit(self) -> None:
        try:
            result = self.build()
        except ValueError as error:
            self.query_one("#form-error", Static).update(str(error))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AddProductScreen(FormScreen):
    TITLE = "Add a product"
    FIELDS = (
        ("sku", "SKU"),
        ("title", "Title"),
        ("price", "Price (cents)"),
        ("currency", "Currency"),
    )

    def build(self) -> AddProduct:
        sku, title = self.value("sku").strip(), self.value("title").strip()
        if not sku or not title:
            raise ValueError("a product needs a SKU and a title")
        currency = self.value("currency").strip().upper()
        if not CURRENCY.match(currency):
            raise ValueError(f"currency must be an ISO 4217 code like EUR, not {currency!r}")
        return AddProduct(sku, _int_field(self.value("price"), "price", 0), title, currency)


class StartSaleScreen(FormScreen):
    TITLE = "Start a flash sale"
    FIELDS = (
        ("product", "Product id"),
        ("price", "Sale price (cents)"),
        ("quantity", "Quantity"),
        ("limit", "Limit per buyer"),
        ("duration", "Duration (10m)"),
        ("ttl", "Pay within (5m)"),
    )

    @staticmethod
    def defaults(product_id: str, price_cents: int) -> dict[str, str]:
        return {
            "product": product_id,
            "price": str(price_cents),
            "quantity": "10",
            "limit": str(SALE_DEFAULT_LIMIT),
            "duration": f"{SALE_DEFAULT_DURATION_S // 60}m",
            "ttl": f"{SALE_DEFAULT_TTL_S // 60}m",
        }

    def build(self) -> StartSale:
        product = self.value("product").strip()
        if not product:
            raise ValueError("pick a product first (products pane, then s)")
        return StartSale(
            product,
            _int_field(self.value("price"), "sale price", 0),
            _int_field(self.value("quantity"), "quantity", 1),
            _int_field(self.value("limit"), "limit per buyer", 1),
            _seconds(self.value("duration"), "duration", SALE_DEFAULT_DURATION_S),
            _seconds(self.value("ttl"), "pay within", SALE_DEFAULT_TTL_S),
        )


@dataclass(frozen=True)
class ImageFile:
    product_id: str
    path: Path


class ImageScreen(FormScreen):
    TITLE = "Give a product an image (PNG, JPEG or WebP)"
    FIELDS = (("product", "Product id"), ("path", "Image file"))

    def build(self) -> ImageFile:
        product = self.value("product").strip()
        if not product:
            raise ValueError("pick a product first (products pane, then g)")
        path = Path(self.value("path").strip()).expanduser()
        if not path.is_file():
            raise ValueError(f"no file at {str(path)!r}")
        return ImageFile(product, path)


@dataclass(frozen=True)
class Moderate:
    """What to do about a chat line: ``delete``, ``mute-user`` or ``ban``."""

    action: str
    line: ChatLine


class ModerateScreen(ModalScreen[Moderate | None]):
    """Hand a chat line to moderation: pick one of the actions."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ModerateScreen { align: center middle; }
    ModerateScreen > Vertical { width: 64; max-width: 100%; height: auto;
        border: thick $warning; background: $surface; padding: 0 1; }
    ModerateScreen OptionList { height: auto; }
    """
    ACTIONS = (
        ("delete", "Delete this message for everyone"),
        ("mute-user", "Mute its author for 10 minutes"),
        ("ban", "Ban its author from the room"),
    )

    def __init__(self, line: ChatLine) -> None:
        super().__init__()
        self._line = line

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text.assemble((self._line.user, "bold"), ": ", self._line.text))
            yield OptionList(*(Option(text, id=key) for key, text in self.ACTIONS))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Moderate(str(event.option.id), self._line))

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close"),
        Binding("q", "close", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(HELP_TEXT)

    def action_close(self) -> None:
        self.dismiss(None)
