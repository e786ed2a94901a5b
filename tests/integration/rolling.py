"""Clients that live through node restarts behind a load balancer, as the real ones do:
a channel client that reconnects (resuming chat from the last id it saw), buyers that
send an unanswered buy again with its key, and a WHEP viewer that re-attaches."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.integration.channel_client import ChannelClient, Frame
from tests.integration.deployment import token
from tests.integration.media_peers import Viewer, accept

RETRY_S = 0.2
# On ``live``, a viewer without a video frame for this long attaches again (as the room
# page restarts a player that is not playing); one that plays keeps its session.
LIVE_STALE_S = 0.3
# Errors after which the same frame is simply sent again.
RETRIABLE = {"store_unavailable", "shutting_down", "internal_error"}


@dataclass
class Reconnecting:
    """A channel client through the balancer that reconnects whenever its socket closes."""

    http: aiohttp.ClientSession
    url: str
    room: str
    user: str
    role: str = "viewer"
    client: ChannelClient | None = None
    closes: list[int | None] = field(default_factory=list)
    welcomes: list[Frame] = field(default_factory=list)
    chat: list[Frame] = field(default_factory=list)
    last_chat_id: str | None = None
    _seen: int = 0

    async def connected(self) -> ChannelClient:
        """The open client, reconnecting (with ``resume``) after a close."""
        if self.client is not None and not self.client.closed.is_set():
            return self.client
        if self.client is not None:
            self._collect()
            self.closes.append(self.client.close_code)
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None
        while True:
            query = {"resume": self.last_chat_id} if self.last_chat_id else {}
            try:
                client = await ChannelClient.connect(
                    self.http, self.url, self.room, token(self.role, self.user), "json", **query
                )
                welcome = await client.wait_for("welcome", timeout_s=15)
            except (aiohttp.ClientError, TimeoutError, AssertionError):
                await asyncio.sleep(RETRY_S)
                continue
            self.welcomes.append(welcome)
            self._seen = 1
            for message in welcome.get("messages") or []:
                self._chat(message)
            self.client = client
            return client

    def _chat(self, frame: Frame) -> None:
        self.chat.append(frame)
        self.last_chat_id = str(frame["id"])

    def _collect(self) -> None:
        """Take the chat frames the current client received since last looked."""
        if self.client is None:
            return
        frames = self.client.frames
        for frame in frames[self._seen :]:
            if frame.get("type") == "chat" and frame.get("id"):
                self._chat(frame)
        self._seen = len(frames)

    async def answer(self, frame: Frame, matches: Any, timeout_s: float = 20.0) -> Frame | None:
        """Send ``frame`` and wait for a frame ``matches`` accepts (or an error frame); None
        when the socket closed first (the caller sends again on the next connection)."""
        client = await self.connected()
        after = len(client.frames)
        try:
            await client.send(frame)
        except (ConnectionError, aiohttp.ClientError):
            return None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for got in client.frames[after:]:
                if matches(got) or got.get("type") == "error":
                    self._collect()
                    return got
            if client.closed.is_set():
                self._collect()
                return None
            await asyncio.sleep(0.02)
        self._collect()
        return None

    async def close(self) -> None:
        if self.client is not None:
            self._collect()
            await self.client.close()


@dataclass
class Buyer:
    """Buys one unit at a time with a new key; a buy without an answer goes again with
    the same key until it has one (any number of connections later)."""

    channel: Reconnecting
    sale: str
    answers: dict[str, list[Frame]] = field(default_factory=lambda: defaultdict(list))
    sends: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            key = f"{self.channel.user}-{n}"
            while True:
                self.sends[key] += 1
                frame = {"type": "buy", "sale": self.sale, "qty": 1, "key": key}
                got = await self.channel.answer(
                    frame, lambda f, k=key: f.get("type") == "buy_result" and f.get("key") == k
                )
                if got is None or (got.get("type") == "error" and got.get("code") in RETRIABLE):
                    await asyncio.sleep(RETRY_S)
                    continue
                assert got.get("type") == "buy_result", got
                self.answers[key].append(got)
                break
            n += 1
            await asyncio.sleep(0.05)


@dataclass
class Chatter:
    """Posts numbered lines; a line counts as posted once its echo came back."""

    channel: Reconnecting
    posted: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            text = f"line {n}"
            while not stop.is_set():
                got = await self.channel.answer(
                    {"type": "chat", "text": text},
                    lambda f, t=text: f.get("type") == "chat" and f.get("text") == t,
                    timeout_s=10,
                )
                if got is not None and got.get("type") == "chat":
                    self.posted.append(text)
                    break
                await asyncio.sleep(RETRY_S)
            n += 1
            await asyncio.sleep(0.1)


@dataclass
class Listener:
    """Reads the room's chat, reconnecting with ``resume`` after every close."""

    channel: Reconnecting
    lives: list[float] = field(default_factory=list)
    offlines: int = 0
    # Set on each ``live`` frame: the room page restarts its player then.
    live: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        seen = 0
        while not stop.is_set():
            client = await self.channel.connected()
            for frame in client.frames[seen:]:
                if frame.get("type") == "live":
                    self.lives.append(time.monotonic())
                    self.live.set()
                elif frame.get("type") == "offline":
                    self.offlines += 1
            seen = len(client.frames)
            self.channel._collect()
            await asyncio.sleep(0.05)
            if client.closed.is_set():
                seen = 0

    def texts(self) -> set[str]:
        return {str(frame.get("text")) for frame in self.channel.chat}


@dataclass
class Watcher:
    """A WHEP viewer through the balancer that re-attaches when its video stops, or at
    once when the room goes ``live`` again while it plays nothing (as the room page's
    player does)."""

    http: aiohttp.ClientSession
    url: str
    room: str
    live: asyncio.Event = field(default_factory=asyncio.Event)
    frame_times: list[float] = field(default_factory=list)
    attaches: int = 0
    # (when, why) of every session it left: "closed", "failed", "stale", "live".
    leaves: list[tuple[float, str]] = field(default_factory=list)
    # When each attach was answered 201.
    attached_at: list[float] = field(default_factory=list)

    async def run(self, stop: asyncio.Event, stale_s: float = 1.0) -> None:
        while not stop.is_set():
            viewer = Viewer()
            try:
                offer = await viewer.offer()
                async with self.http.post(
                    f"{self.url}/whep/{self.room}",
                    data=offer,
                    headers={"Content-Type": "application/sdp"},
                ) as reply:
                    if reply.status != 201:
                        await viewer.close()
                        await asyncio.sleep(RETRY_S)
                        continue
                    await accept(viewer.pc, await reply.text())
            except (aiohttp.ClientError, TimeoutError):
                await viewer.close()
                await asyncio.sleep(RETRY_S)
                continue
            self.attaches += 1
            self.live.clear()
            attached = last_change = time.monotonic()
            self.attached_at.append(attached)
            count = 0
            while not stop.is_set():
                await asyncio.sleep(0.05)
                now = time.monotonic()
                if viewer.frames["video"] > count:
                    count = viewer.frames["video"]
                    self.frame_times.append(now)
                    last_change = now
                state = viewer.pc.connectionState
                waited = now - max(last_change, attached)
                if state in ("failed", "closed"):
                    self.leaves.append((now, state))
                    break
                if waited > (stale_s if count else 5.0):
                    self.leaves.append((now, "stale"))
                    break
                if self.live.is_set() and now - last_change > LIVE_STALE_S:
                    self.leaves.append((now, "live"))
                    break  # live again (a new publication) and nothing plays: play it
            await viewer.close()

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time without a new video frame between ``since`` and ``until``."""
        times = [since, *(t for t in self.frame_times if since < t < until)]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def first_frame_after(self, since: float) -> float | None:
        return next((t for t in self.frame_times if t >= since), None)
