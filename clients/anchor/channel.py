"""The anchor's connection to its room channel (JSON frames), reconnecting with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import aiohttp

MAX_BACKOFF_S = 30.0
CONNECT_TIMEOUT_S = 10.0
HEARTBEAT_S = 20.0
# The server drains (restart): another node takes the reconnect at once.
DRAINING_CLOSE = 4503
# Close codes after which reconnecting cannot help (see docs/channel.md).
FINAL_CLOSES = {
    4401: "the server refused the token (not valid, or expired: get a fresh one)",
    4403: "this token may not act in this room (banned, or made for another room)",
    4404: "the room does not exist",
    4410: "the room has ended",
}
Frame = dict[str, Any]


class NotConnectedError(Exception):
    """A frame cannot be sent: the channel is down (it is being retried)."""


class RoomChannel:
    """``/ws/rooms/ROOM?format=json`` for as long as :meth:`run` runs.

    Frames go to ``on_frame`` in arrival order; connection news (dropped,
    back, given up) goes to ``on_notice``. After a drop it reconnects with
    ``resume`` set to the last chat id seen, so no message is missed while
    the room's history reaches back that far.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        server: str,
        room: str,
        token: str,
        on_frame: Callable[[Frame], None],
        on_notice: Callable[[str], None],
    ) -> None:
        self._http = http
        self._url = f"{server.rstrip('/')}/ws/rooms/{room}"
        self._token = token
        self._on_frame = on_frame
        self._on_notice = on_notice
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._resume: str | None = None

    async def send(self, frame: Frame) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise NotConnectedError("not connected to the room channel; reconnecting")
        try:
            await ws.send_str(json.dumps(frame))
        except ConnectionError as error:
            raise NotConnectedError(f"the room channel dropped ({error}); reconnecting") from None

    async def run(self) -> None:
        """Stay connected until cancelled or the server says it is final."""
        backoff = 1.0
        connected_once = False
        while True:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    ws = await self._http.ws_connect(
                        self._url,
                        params=self._params(),
                        headers={"Authorization": f"Bearer {self._token}"},
                        heartbeat=HEARTBEAT_S,
                    )
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                self._on_notice(
                    f"cannot reach the room channel ({_reason(error)}); retrying in {backoff:.0f} s"
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if connected_once:
                self._on_notice("back on the room channel")
            connected_once = True
            self._ws = ws
            try:
                got_frames, resync = await self._read(ws)
            finally:
                self._ws = None
                with contextlib.suppress(Exception):
                    await ws.close()
            code = ws.close_code
            if code in FINAL_CLOSES:
                self._on_notice(f"left the room channel: {FINAL_CLOSES[code]} (close {code})")
                return
            if resync:
                self._on_notice("the server may have missed events; resuming")
                continue
            if code == DRAINING_CLOSE:
                self._on_notice("the server is restarting; reconnecting to another node")
                backoff = 1.0
                continue
            if got_frames:
                backoff = 1.0
            self._on_notice(f"the room channel dropped (close {code}); reconnecting")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _params(self) -> dict[str, str]:
        params = {"format": "json"}
        if self._resume is not None:
            params["resume"] = self._resume
        return params

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> tuple[bool, bool]:
        """Deliver frames until the socket ends: whether any arrived, whether it was a resync."""
        got_frames = False
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                self._on_notice("the server sent a frame that is not JSON; ignored")
                continue
            if not isinstance(frame, dict):
                continue
            got_frames = True
            self._note_resume_point(frame)
            self._on_frame(frame)
            if frame.get("type") == "resync":
                return got_frames, True  # the node may have missed events: reconnect, resume
        return got_frames, False

    def _note_resume_point(self, frame: Frame) -> None:
        if frame.get("type") == "chat" and isinstance(frame.get("id"), str):
            self._resume = frame["id"]
        elif frame.get("type") == "welcome":
            messages = frame.get("messages") or []
            if messages and isinstance(messages[-1], dict) and "id" in messages[-1]:
                self._resume = str(messages[-1]["id"])


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
