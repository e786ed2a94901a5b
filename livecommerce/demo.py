"""``livecommerce serve --demo``: a live room a newcomer can open at once.

The demo is a client of its own node, through the public interface only: it
creates a room with products over the HTTP API, pins one, keeps a flash sale
running (a new one starts a few seconds after the last ended or sold out),
publishes the H.264 sample clip from ``media/samples`` (so its recording is HLS and
viewers without WebRTC can watch it over HLS) with ``livecommerce-anchor``
(WHIP, looped, never re-encoded; its token passed in the environment, not on the
command line) and says a line in chat now and then. The
room id is kept in ``DATA_DIR/demo_room`` so a restart reuses the same room. When
the room is ended (by a person trying it, or an operator), its replay stays and
the demo opens a new live room, and says where.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from livecommerce.auth import Role, issue_token
from livecommerce.processes import die_with_parent
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.demo")

DEMO_ANCHOR = "demo-anchor"
ROOM_FILE = "demo_room"
TOKEN_TTL_S = 30 * 86_400
# The token printed for a person (studio URL, anchor command): this room only, half a day.
PERSON_TOKEN_TTL_S = 12 * 3600
PERSON_TOKEN_FILE = "demo_anchor_token"
CHECK_EVERY_S = 2.0
PAUSE_BETWEEN_SALES_S = 5.0
CHAT_EVERY_S = 20.0
PUBLISHER_RESTART_S = 3.0

ROOM = {
    "title": "Tea tasting live: oolongs from Alishan",
    "description": "Our tea master brews, explains and answers your questions. "
    "Flash sales every few minutes.",
    "cover_url": "/static/demo/cover.svg",
}
PRODUCTS: list[dict[str, Any]] = [
    {"sku": "OOLONG-100", "title": "Alishan high-mountain oolong, 100 g", "price_cents": 2400},
    {"sku": "GAIWAN-WHITE", "title": "Porcelain gaiwan, 150 ml", "price_cents": 1900},
    {"sku": "TASTING-SET", "title": "Tasting set: 6 oolongs x 10 g", "price_cents": 3200},
]
SALES = [  # (product index, price, quantity, per-user limit, duration s)
    (0, 1490, 30, 1, 180),
    (2, 1990, 15, 1, 150),
    (1, 990, 20, 2, 120),
]
CHAT_LINES = [
    "Welcome! Ask me anything about the tea while it brews.",
    "This one is rolled by hand, watch the leaves open in the second steep.",
    "95 °C water, 40 seconds for the first infusion.",
    "The flash sale price is only for this stream: tap Buy under the video.",
    "Stock is live: what you see left is what is left.",
]


class DemoRoom:
    """Seeds and runs the demo room on the node at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        data_dir: str | Path,
        announce: Callable[[str], None] = print,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._announce = announce
        self._secret = secret
        self._token = issue_token(secret, Role.anchor, DEMO_ANCHOR, ttl_s=TOKEN_TTL_S)
        self._room_file = Path(data_dir) / ROOM_FILE
        self._person_token_file = Path(data_dir) / PERSON_TOKEN_FILE
        self._session: aiohttp.ClientSession | None = None
        self._publisher: asyncio.subprocess.Process | None = None
        self._tasks = Supervisor(logger=log)
        self.room_id = ""

    @property
    def room_url(self) -> str:
        return f"{self._base_url}/rooms/{self.room_id}"

    @property
    def dashboard_url(self) -> str:
        """The room's studio dashboard; its page asks for the anchor's token."""
        return f"{self._base_url}/studio/rooms/{self.room_id}"

    async def start(self) -> str:
        """Seed the room (or find the one from last time) and start its loops; the room URL."""
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=aiohttp.ClientTimeout(total=10),
        )
        products = await self._seed()
        self._tasks.spawn("demo-room", self._run_rooms(products))
        return self.room_url

    def intro_lines(self) -> list[str]:
        """What a newcomer reads: the room, how to take it over, its dashboard."""
        return [
            f"demo: a live room is ready, open {self.room_url}",
            *self.anchor_lines(),
            f"demo: its analytics dashboard is {self.dashboard_url} (sign in with the "
            f"anchor token in {self._person_token_file})",
        ]

    async def _run_rooms(self, products: list[dict[str, Any]]) -> None:
        """Run the room until it is ended, then a new one, for as long as the node runs."""
        while True:
            loops = Supervisor(logger=log)
            loops.spawn("demo-publisher", self._keep_publishing())
            loops.spawn("demo-sales", self._keep_a_sale_running(products))
            loops.spawn("demo-chat", self._chat())
            try:
                ended = False
                while not ended:
                    await asyncio.sleep(CHECK_EVERY_S)
                    ended = await self._status() == "ended"
            finally:
                await loops.stop()
                await self._stop_publisher()
            ended_room = self.room_id
            products = await self._seed_retrying()
            log.info("demo: room %s ended; a new room is %s", ended_room, self.room_id)
            self._announce(
                f"demo: room {ended_room} ended (its replay: {self._base_url}/rooms/{ended_room})"
            )
            for line in self.intro_lines():
                self._announce(line)

    async def _seed_retrying(self) -> list[dict[str, Any]]:
        while True:
            try:
                return await self._seed()
            except (RuntimeError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("demo: could not open a new room (%s); trying again", exc)
                await asyncio.sleep(PUBLISHER_RESTART_S)

    def anchor_lines(self) -> list[str]:
        """How a person takes over the demo room as its anchor: the studio URL and the
        ``livecommerce-anchor`` command (its token in a private file, not on the command line).

        The token is made for this room only and lasts :data:`PERSON_TOKEN_TTL_S`; the
        URL carries it in the fragment, which browsers never send to a server.
        """
        token = issue_token(
            self._secret, Role.anchor, DEMO_ANCHOR, room=self.room_id, ttl_s=PERSON_TOKEN_TTL_S
        )
        path = self._person_token_file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(token + "\n")
        return [
            f"demo: go live from the browser: {self._base_url}/studio?room={self.room_id}"
            f"#token={token}",
            f"demo: or from a terminal: livecommerce-anchor --server {self._base_url} "
            f"--room {self.room_id} --token-file {path}",
        ]

    async def stop(self) -> None:
        await self._tasks.stop()
        await self._stop_publisher()
        if self._session is not None:
            await self._session.close()

    # The room, its products and sales, through the HTTP API

    async def _api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self._session is not None
        async with self._session.request(method, self._base_url + path, json=body) as response:
            return response.status, await response.json()

    async def _seed(self) -> list[dict[str, Any]]:
        previous = self._room_file.read_text().strip() if self._room_file.exists() else ""
        if previous:
            status, room = await self._api("GET", f"/api/rooms/{previous}")
            if status == 200 and room["status"] != "ended" and room["anchor"] == DEMO_ANCHOR:
                self.room_id = previous
                products = await self._products()
                if products:
                    return products
        status, room = await self._api("POST", "/api/rooms", ROOM)
        if status != 201:
            raise RuntimeError(f"demo: could not create the room: {room}")
        self.room_id = room["id"]
        self._room_file.parent.mkdir(parents=True, exist_ok=True)
        self._room_file.write_text(self.room_id)
        products = []
        for item in PRODUCTS:
            body = {
                **item,
                "currency": "EUR",
                "image_url": f"/static/demo/{item['sku'].lower()}.svg",
            }
            status, product = await self._api("POST", f"/api/rooms/{self.room_id}/products", body)
            if status != 201:
                raise RuntimeError(f"demo: could not add a product: {product}")
            products.append(product)
        await self._api("POST", f"/api/rooms/{self.room_id}/pin", {"product_id": products[0]["id"]})
        # Links, phone numbers and spam wait for review: see /mod/rooms/{room}.
        await self._api("POST", f"/api/rooms/{self.room_id}/moderation/automod", {"level": 2})
        return products

    async def _products(self) -> list[dict[str, Any]]:
        status, answer = await self._api("GET", f"/api/rooms/{self.room_id}/products")
        return list(answer["products"]) if status == 200 else []

    async def _keep_a_sale_running(self, products: list[dict[str, Any]]) -> None:
        for index, price, quantity, limit, duration in itertools.cycle(SALES):
            product = products[index % len(products)]
            body = {
                "product_id": product["id"],
                "price_cents": price,
                "quantity": quantity,
                "per_user_limit": limit,
                "duration_s": duration,
                "reservation_ttl_s": 120,
            }
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self._api(
                    "POST", f"/api/rooms/{self.room_id}/pin", {"product_id": product["id"]}
                )
            status, sale = await self._api("POST", f"/api/rooms/{self.room_id}/sales", body)
            if status != 201:
                log.warning("demo: could not start a flash sale: %s", sale)
                await asyncio.sleep(PAUSE_BETWEEN_SALES_S)
                continue
            await self._until_sale_over(sale["id"])
            await asyncio.sleep(PAUSE_BETWEEN_SALES_S)

    async def _until_sale_over(self, sale_id: str) -> None:
        running = True
        while running:
            await asyncio.sleep(CHECK_EVERY_S)
            running = await self._sale_running(sale_id)

    async def _sale_running(self, sale_id: str) -> bool:
        try:
            status, sale = await self._api("GET", f"/api/rooms/{self.room_id}/sales/{sale_id}")
        except (aiohttp.ClientError, TimeoutError):
            return True  # ask again later
        return status == 200 and sale["status"] in ("scheduled", "open")

    # The anchor's stream and voice

    async def _keep_publishing(self) -> None:
        from media.samples import sample_path

        command = [
            sys.executable,
            "-m",
            "clients.anchor",
            "--server",
            self._base_url,
            "--room",
            self.room_id,
            "--source",
            str(sample_path("h264")),
            "--no-console",
            "--status-every",
            "0",
            # One session per run: when a person goes live in the room (studio or
            # livecommerce-anchor, same anchor), the server replaces this session and the
            # clip waits until the room is offline again instead of taking it back.
            "--once",
        ]
        # The token goes in the environment: any user of the machine can read a command line.
        env = {**os.environ, "LIVECOMMERCE_ANCHOR_TOKEN": self._token}
        while True:
            self._publisher = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                env=env,
                preexec_fn=die_with_parent(os.getpid()),
            )
            code = await self._publisher.wait()
            log.warning("demo: the publisher exited (%s); restarting", code)
            await asyncio.sleep(PUBLISHER_RESTART_S)
            live = await self._live()
            while live:  # a person publishes in the room: theirs until they stop
                await asyncio.sleep(CHECK_EVERY_S)
                live = await self._live()

    async def _live(self) -> bool:
        """Whether someone publishes in the room now (a person who took it over)."""
        return await self._status() == "live"

    async def _status(self) -> str:
        """The room's status; "" when the node did not answer."""
        try:
            status, room = await self._api("GET", f"/api/rooms/{self.room_id}")
        except (aiohttp.ClientError, TimeoutError):
            return ""
        return str(room.get("status", "")) if status == 200 else ""

    async def _stop_publisher(self) -> None:
        publisher = self._publisher
        if publisher is None or publisher.returncode is not None:
            return
        publisher.terminate()
        try:
            await asyncio.wait_for(publisher.wait(), 5)
        except TimeoutError:
            publisher.kill()
            await publisher.wait()

    async def _chat(self) -> None:
        """One anchor connection to the channel, saying a line at once and then every
        CHAT_EVERY_S."""
        assert self._session is not None
        url = f"{self._base_url}/ws/rooms/{self.room_id}?format=json&token={self._token}"
        lines = itertools.cycle(CHAT_LINES)
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ConnectionError):
                async with self._session.ws_connect(url, heartbeat=30) as ws:
                    while not ws.closed:
                        await ws.send_str(json.dumps({"type": "chat", "text": next(lines)}))
                        await asyncio.sleep(CHAT_EVERY_S)
            await asyncio.sleep(PUBLISHER_RESTART_S)
