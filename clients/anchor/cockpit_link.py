"""The full-screen console's connections: the room channel, the REST calls, the polls.

Everything the console learns goes into one :class:`CockpitModel`; after each
change ``on_change`` runs so the screen redraws, and failures the anchor must
see (a refused call, a dropped channel) go to ``on_notice`` as one sentence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

import aiohttp

from clients.anchor.api import AnchorApi, AnchorApiError
from clients.anchor.channel import RoomChannel
from clients.anchor.cockpit_model import CockpitModel
from clients.anchor.room_view import Frame
from clients.anchor.watch import PublicationWatch
from media.tasks import Supervisor

log = logging.getLogger("livecommerce.anchor.cockpit")
STOP_GRACE_S = 1.0


@dataclass(frozen=True)
class LinkOptions:
    server: str
    token: str
    room: str
    currency: str = "EUR"
    stats_every_s: float = 2.0
    media_every_s: float = 2.0


class CockpitLink:
    """Owns the console's background tasks (:meth:`start` / :meth:`stop`)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        options: LinkOptions,
        watch: PublicationWatch | None = None,
    ) -> None:
        self.options = options
        self.model = CockpitModel()
        self.api = AnchorApi(http, options.server, options.token, options.room)
        self.watch = watch or PublicationWatch()
        self.on_change: Callable[[], None] = lambda: None
        self.on_notice: Callable[[str, bool], None] = lambda text, error: None
        self.on_room_ended: Callable[[], None] = lambda: None
        self.channel = RoomChannel(
            http, options.server, options.room, options.token, self._frame, self._channel_news
        )
        self._tasks = Supervisor(grace_s=STOP_GRACE_S, logger=log)
        self._errors: dict[str, str] = {}
        self.watch.on_change.append(self._publication_changed)

    def start(self) -> None:
        jobs: list[tuple[str, Callable[[], Coroutine[object, None, None]]]] = [
            ("channel", self.channel.run),
            ("products", self.refresh_products),
            ("stats", lambda: self._every(self.options.stats_every_s, self.refresh_stats)),
            ("media", lambda: self._every(self.options.media_every_s, self._refresh_media)),
        ]
        for name, job in jobs:
            self._tasks.spawn(f"cockpit-{name}", job())
        self._publication_changed()

    async def stop(self) -> None:
        if self._publication_changed in self.watch.on_change:
            self.watch.on_change.remove(self._publication_changed)
        await self._tasks.stop()

    async def refresh_products(self) -> None:
        try:
            self.model.set_products(await self.api.products())
        except AnchorApiError as error:
            self._fail_once("products", f"products: {error.message}")
            return
        self.on_change()

    async def refresh_stats(self) -> None:
        try:
            stats = await self.api.stats()
        except AnchorApiError as error:
            self._fail_once("stats", f"room stats: {error.message}")
            return
        self._errors.pop("stats", None)
        self.model.apply_stats(stats)
        self.on_change()

    async def _refresh_media(self) -> None:
        sent = await self.watch.bytes_sent()
        if sent is not None:
            self.model.apply_sent_bytes(sent)
        if not self.watch.live:
            self.on_change()
            return
        try:
            stats = await self.api.media()
        except AnchorApiError as error:
            if error.status != 404:  # 404: not live on this node (yet)
                self._fail_once("media", f"stream counters: {error.message}")
            return
        self.model.apply_media(stats)
        self.on_change()

    async def _every(
        self, interval_s: float, job: Callable[[], Coroutine[object, None, None]]
    ) -> None:
        if interval_s <= 0:
            return
        while True:
            await job()
            await asyncio.sleep(interval_s)

    def _frame(self, frame: Frame) -> None:
        try:
            lines = self.model.apply(frame)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.on_notice(f"could not read a {frame.get('type')!r} frame from the server", True)
            return
        for tag, text in lines:
            if tag == "error":
                self.on_notice(text, True)
        self.on_change()
        if frame.get("type") == "room_ended":
            self.on_notice("the room has ended", True)
            self.on_room_ended()

    def _channel_news(self, text: str) -> None:
        self.model.channel_up = text.startswith("back on")
        self.model.version += 1
        self.on_notice(text, not self.model.channel_up)
        self.on_change()

    def _publication_changed(self) -> None:
        watch = self.watch
        self.model.set_publication(
            live=watch.live, reconnecting=watch.reconnecting, notice=watch.notice
        )
        self.on_change()

    def _fail_once(self, what: str, text: str) -> None:
        """Tell the anchor of a failing poll once, not at every poll."""
        if self._errors.get(what) != text:
            self.on_notice(text, True)
        self._errors[what] = text
