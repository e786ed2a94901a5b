"""The full-screen console's forms for the selling formats: drop a voucher, start an
auction, start a giveaway.

Each form turns its fields into the line console's words and parses them with
:func:`~clients.anchor.format_commands.parse_format_command`, so both consoles
check a value the same way and send the same body; a wrong value is said
under the form and nothing reaches the server.
"""

from __future__ import annotations

from clients.anchor.cockpit_forms import FormScreen
from clients.anchor.format_commands import FormatCall, parse_format_command

YES = {"y", "yes", "1", "true", "on"}
NO = {"", "n", "no", "0", "false", "off"}


def _yes(value: str, name: str) -> bool:
    answer = value.strip().lower()
    if answer not in YES | NO:
        raise ValueError(f"{name}: answer y or n, not {value.strip()!r}")
    return answer in YES


def _text(value: str, name: str) -> str:
    text = " ".join(value.split())
    if text.startswith("--"):
        raise ValueError(f"{name} cannot start with --")
    return text


class _FormatForm(FormScreen):
    """A form whose fields become ``WORD words…`` of the line console."""

    WORD = ""

    def words(self) -> list[str]:
        raise NotImplementedError

    def optional(self, words: list[str], key: str, flag: str) -> None:
        value = self.value(key).strip()
        if value:
            words += [flag, value]

    def build(self) -> FormatCall:
        return parse_format_command(self.WORD, self.words())


class VoucherScreen(_FormatForm):
    TITLE = "Drop a voucher"
    WORD = "voucher"
    FIELDS = (
        ("title", "Title"),
        ("off", "Off (cents)"),
        ("percent", "or Percent off"),
        ("quantity", "Quantity"),
        ("limit", "Limit per viewer"),
        ("min", "Min spend (cents)"),
        ("watch", "Watch time (5m)"),
        ("expires", "Expires in (30m)"),
    )

    def words(self) -> list[str]:
        title = _text(self.value("title"), "the title")
        if not title:
            raise ValueError("a voucher needs a title")
        off, percent = self.value("off").strip(), self.value("percent").strip()
        if bool(off) == bool(percent):
            raise ValueError("give either cents off or a percent off")
        words = ["drop", title, "--qty", self.value("quantity").strip()]
        words += ["--off", off] if off else ["--percent", percent]
        self.optional(words, "limit", "--limit")
        self.optional(words, "min", "--min")
        self.optional(words, "watch", "--watch")
        self.optional(words, "expires", "--for")
        return words


class AuctionScreen(_FormatForm):
    TITLE = "Start an auction"
    WORD = "auction"
    FIELDS = (
        ("product", "Product id"),
        ("start", "Start price (cents)"),
        ("duration", "Duration (30s)"),
        ("reserve", "Reserve (cents)"),
        ("snipe", "Anti-snipe (10s)"),
        ("sudden", "Sudden death (y/n)"),
    )

    def words(self) -> list[str]:
        product = self.value("product").strip()
        if not product:
            raise ValueError("pick a product first (products pane, then b)")
        words = ["start", _text(product, "the product"), self.value("start").strip()]
        self.optional(words, "duration", "--for")
        self.optional(words, "reserve", "--reserve")
        self.optional(words, "snipe", "--snipe")
        if _yes(self.value("sudden"), "sudden death"):
            words.append("--sudden-death")
        return words


class GiveawayScreen(_FormatForm):
    TITLE = "Start a giveaway"
    WORD = "giveaway"
    FIELDS = (
        ("title", "Title"),
        ("winners", "Winners"),
        ("duration", "Duration (2m)"),
        ("product", "Product id"),
        ("watch", "Watched at least"),
        ("buyers", "Buyers only (y/n)"),
        ("keyword", "Keyword"),
    )

    def words(self) -> list[str]:
        title = _text(self.value("title"), "the title")
        if not title:
            raise ValueError("a giveaway needs a title")
        words = ["start", self.value("winners").strip() or "1", title]
        self.optional(words, "duration", "--for")
        self.optional(words, "product", "--product")
        self.optional(words, "watch", "--watch")
        self.optional(words, "keyword", "--keyword")
        if _yes(self.value("buyers"), "buyers only"):
            words.append("--buyers")
        return words
