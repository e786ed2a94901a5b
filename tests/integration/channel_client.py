"""A test client of the room channel, in either wire format."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import msgpack

Frame = dict[str, Any]


class ChannelClient:
    """One WebSocket to ``/ws/rooms/{room}``; frames are read in the background."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, wire: str) -> None:
        self.ws = ws
        self.wire = wire
        self.frames: list[Frame] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        session: aiohttp.ClientSession,
        base_url: str,
        room: str,
        token: str | None = None,
        wire: str = "msgpack",
        **query: str,
    ) -> ChannelClient:
        params = {"format": wire, **query}
        if token:
            params["token"] = token
        ws = await session.ws_connect(f"{base_url}/ws/rooms/{room}", params=params, autoping=True)
        return cls(ws, wire)

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.frames.append(msgpack.unpackb(message.data, raw=False))
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(message.data))
            self._changed.set()
        self.closed.set()
        self._changed.set()

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def send(self, frame: Frame) -> None:
        if self.wire == "msgpack":
            await self.ws.send_bytes(msgpack.packb(frame, use_bin_type=True))
        else:
            await self.ws.send_str(json.dumps(frame))

    async def send_raw(self, data: bytes | str) -> None:
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    async def wait_for(
        self, match: Callable[[Frame], bool] | str, timeout_s: float = 5.0, after: int = 0
    ) -> Frame:
        """The first frame (from index ``after``) that matches a predicate or has that type."""
        predicate = (lambda f: f.get("type") == match) if isinstance(match, str) else match
        async with asyncio.timeout(timeout_s):
            while True:
                for frame in self.frames[after:]:
                    if predicate(frame):
                        return frame
                if self.closed.is_set():
                    raise AssertionError(
                        f"closed ({self.close_code}) before a match; got {self.frames}"
                    )
                self._changed.clear()
                await self._changed.wait()

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Wait until ``condition()`` holds, checked as frames arrive; AssertionError when
        the socket closes or the time runs out first."""
        try:
            async with asyncio.timeout(timeout_s):
                while not condition():
                    if self.closed.is_set():
                        raise AssertionError(f"closed ({self.close_code}); got {self.frames}")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout_s} s; got {self.frames}") from None

    async def wait_count(
        self,
        match: Callable[[Frame], bool] | str,
        count: int,
        timeout_s: float = 5.0,
        after: int = 0,
    ) -> list[Frame]:
        """Wait until ``count`` frames (from index ``after``) match; every match so far."""
        predicate = (lambda f: f.get("type") == match) if isinstance(match, str) else match

        def matches() -> list[Frame]:
            return [f for f in self.frames[after:] if predicate(f)]

        await self.wait_until(lambda: len(matches()) >= count, timeout_s)
        return matches()

    async def sync(self, timeout_s: float = 5.0) -> None:
        """Ping and wait for the pong. A socket's frames are handled in order, so every
        frame the node sent this socket in answer to what it sent before (errors,
        ``buy_result``, pongs) has then arrived. (Room events travel the bus: to wait
        for those, post a chat marker and wait for it instead.) No other ping of this
        socket may be unanswered."""
        mark = len(self.frames)
        await self.send({"type": "ping"})
        await self.wait_for("pong", timeout_s=timeout_s, after=mark)

    async def wait_closed(self, timeout_s: float = 5.0) -> int | None:
        async with asyncio.timeout(timeout_s):
            await self.closed.wait()
        return self.close_code

    def of_type(self, kind: str) -> list[Frame]:
        return [f for f in self.frames if f.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def pass_marker(poster: ChannelClient, *readers: ChannelClient, text: str) -> None:
    """Post the chat line ``text`` from ``poster`` (signed in) and wait until it reaches
    the poster and every reader. A room's events reach every socket in the order the
    store took them, so every event published before the marker has then arrived: what
    has not is not coming from anything done before."""
    await poster.send({"type": "chat", "text": text})
    for client in (poster, *readers):
        await client.wait_for(lambda f: f.get("type") == "chat" and f.get("text") == text)
