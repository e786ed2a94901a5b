"""The anchor's live console: room events in, commands out, while the stream publishes.

Three tasks run until ``stop`` is set: the room channel (chat, viewers,
likes, stock), a poll of the room's stats (orders and GMV: the channel tells
only the buyer about an order) and the command reader. The status line is
printed when it changes, at most every :data:`STATUS_EVERY_S`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass

import aiohttp

from clients.anchor.api import AnchorApi, AnchorApiError
from clients.anchor.channel import Frame, NotConnectedError, RoomChannel
from clients.anchor.commands import (
    HELP,
    AddProduct,
    Command,
    Help,
    ListProducts,
    ListSales,
    Pin,
    Quit,
    Say,
    ShowStats,
    StartSale,
    StopSale,
    parse_command,
)
from clients.anchor.format_commands import FormatCall, describe
from clients.anchor.output import Printer
from clients.anchor.room_view import ConsoleState, SaleView, money
from media.tasks import Supervisor

STATUS_EVERY_S = 0.5
STDIN_QUEUE_LINES = 64
log = logging.getLogger("livecommerce.anchor")


@dataclass(frozen=True)
class ConsoleOptions:
    server: str
    token: str
    room: str
    currency: str = "EUR"
    stats_every_s: float = 2.0


async def stdin_lines() -> AsyncIterator[str]:
    """Lines typed (or piped) on stdin; ends at end of input.

    A daemon thread reads the raw descriptor, so this works for terminals,
    pipes and files alike and never holds a lock the interpreter needs at exit.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue(STDIN_QUEUE_LINES)

    def put(line: str | None) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(line), loop).result()

    def read(fd: int) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        with contextlib.suppress(RuntimeError, OSError):  # loop closed, or stdin gone
            while chunk := os.read(fd, 4096):
                *complete, pending = (pending + decoder.decode(chunk)).split("\n")
                for line in complete:
                    put(line)
            if pending:
                put(pending)
        with contextlib.suppress(RuntimeError):
            put(None)

    thread = threading.Thread(
        target=read, args=(sys.stdin.fileno(),), name="anchor-stdin", daemon=True
    )
    thread.start()
    while (line := await queue.get()) is not None:
        yield line


class LiveConsole:
    """Shows the room and carries out the anchor's commands."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        options: ConsoleOptions,
        printer: Printer,
        on_room_ended: Callable[[], None] = lambda: None,
    ) -> None:
        self._options = options
        self._on_room_ended = on_room_ended
        self._printer = printer
        self._state = ConsoleState()
        self._api = AnchorApi(http, options.server, options.token, options.room)
        self._channel = RoomChannel(
            http,
            options.server,
            options.room,
            options.token,
            self._on_frame,
            lambda text: printer.line("channel", text),
        )
        self._changed = asyncio.Event()
        self._last_stats_error: str | None = None

    async def run(self, stop: asyncio.Event, lines: AsyncIterator[str]) -> None:
        """Run until ``stop`` is set (``quit`` sets it); the console's tasks have ended
        when it returns."""
        self._printer.line("console", "type help for the commands")
        await self._learn_products()
        jobs: list[tuple[str, Callable[[], Coroutine[object, None, None]]]] = [
            ("channel", self._channel.run),
            ("stats", self._poll_stats),
            ("status", self._print_status),
            ("commands", lambda: self._read_commands(lines, stop)),
        ]
        tasks = Supervisor(logger=log)
        for name, job in jobs:
            tasks.spawn(f"anchor-{name}", job()).add_done_callback(self._report_crash)
        try:
            await stop.wait()
        finally:
            await tasks.stop()

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        """Say on the console that a task stopped (the supervisor logs its traceback)."""
        if not task.cancelled() and task.exception() is not None:
            self._printer.line("error", f"{task.get_name()} stopped: {task.exception()!r}")

    def _on_frame(self, frame: Frame) -> None:
        try:
            lines = self._state.apply(frame)
        except (KeyError, TypeError, ValueError, AttributeError):
            lines = [("error", f"could not read a {frame.get('type')!r} frame from the server")]
        for tag, text in lines:
            self._printer.line(tag, text)
        self._changed.set()
        if frame.get("type") == "room_ended":
            self._on_room_ended()

    async def _print_status(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            if not self._state.joined:
                continue  # stats alone would show zero viewers before the welcome
            self._printer.status(self._state.status_line())
            await asyncio.sleep(STATUS_EVERY_S)

    async def _poll_stats(self) -> None:
        if self._options.stats_every_s <= 0:
            return
        while True:
            await self._refresh_stats()
            await asyncio.sleep(self._options.stats_every_s)

    async def _refresh_stats(self) -> None:
        try:
            stats = await self._api.stats()
        except AnchorApiError as error:
            if str(error) != self._last_stats_error:  # say it once, not every poll
                self._printer.line("error", f"room stats: {error}")
            self._last_stats_error = str(error)
            return
        self._last_stats_error = None
        for tag, text in self._state.apply_stats(stats):
            self._printer.line(tag, text)
        self._changed.set()

    async def _learn_products(self) -> None:
        try:
            for product in await self._api.products():
                self._state.remember_product(product)
        except AnchorApiError as error:
            self._printer.line("error", f"products: {error}")

    async def _read_commands(self, lines: AsyncIterator[str], stop: asyncio.Event) -> None:
        async for line in lines:
            try:
                command = parse_command(line)
            except ValueError as error:
                self._printer.line("error", str(error))
                continue
            if command is None:
                continue
            if isinstance(command, Quit):
                self._printer.line("console", "quitting")
                stop.set()
                return
            try:
                await self._execute(command)
            except AnchorApiError as error:
                self._printer.line("error", str(error))
            except NotConnectedError as error:
                self._printer.line("error", str(error))
        self._printer.line("console", "end of input: commands are off; Ctrl-C stops publishing")

    async def _execute(self, command: Command) -> None:
        ok = self._printer.line
        if isinstance(command, Help):
            self._printer.block(HELP)
        elif isinstance(command, Say):
            await self._channel.send({"type": "chat", "text": command.text})
        elif isinstance(command, ListProducts):
            products = await self._api.products()
            for product in products:
                self._state.remember_product(product)
                ok("product", _describe_product(product))
            if not products:
                ok("product", "no products yet: product add SKU PRICE_CENTS TITLE…")
        elif isinstance(command, AddProduct):
            currency = command.currency or self._options.currency
            product = await self._api.add_product(
                command.sku, command.title, command.price_cents, currency
            )
            self._state.remember_product(product)
            ok("ok", f"added {_describe_product(product)}")
        elif isinstance(command, Pin):
            product = await self._api.pin(command.product_id)
            ok("ok", f"pinned {product['title']} ({product['id']})")
        elif isinstance(command, StartSale):
            sale = await self._api.start_sale(sale_terms(command))
            ok("ok", f"sale {sale['id']} started; stop it with: sale stop {sale['id']}")
        elif isinstance(command, StopSale):
            sale = await self._api.stop_sale(command.sale_id)
            ok("ok", f"sale {sale['id']} stopped")
        elif isinstance(command, ListSales):
            await self._list_sales()
        elif isinstance(command, ShowStats):
            await self._refresh_stats()
            ok("stats", self._state.status_line())
        elif isinstance(command, FormatCall):
            answer = await self._api.format_call(command.method, command.path, command.body)
            ok("ok", describe(command, answer))

    async def _list_sales(self) -> None:
        if not self._state.sales:
            self._printer.line("sale", "no sales in this session yet")
        for sale_id in list(self._state.sales):
            view = SaleView.from_json(await self._api.sale(sale_id))
            self._state.sales[sale_id] = view
            self._printer.line(
                "sale",
                f"{view.id} {self._state.product_name(view.product_id)} "
                f"{money(view.price_cents, view.currency)}: {view.status}, {view.left} of "
                f"{view.quantity} left, {view.reserved} awaiting payment, {view.sold} paid",
            )
        self._changed.set()


def _describe_product(product: Frame) -> str:
    price = money(int(product["price_cents"]), str(product["currency"]))
    return f"{product['id']} {product['sku']} {product['title']!r} {price}"


def sale_terms(command: StartSale) -> dict[str, int | str]:
    return {
        "product_id": command.product_id,
        "price_cents": command.price_cents,
        "quantity": command.quantity,
        "per_user_limit": command.per_user_limit,
        "duration_s": command.duration_s,
        "reservation_ttl_s": command.reservation_ttl_s,
    }
