"""A tiny HTTP and WebSocket load balancer for drills: round robin over upstream nodes,
trying the next one when a node refuses the connection (it is restarting)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

# Headers that describe one hop, not the request (RFC 9110 7.6.1), and those aiohttp sets.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
    "sec-websocket-protocol",
}
CONNECT_ERRORS = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)


@dataclass
class Balancer:
    """``upstreams`` are node base URLs; the list may be changed while it runs."""

    upstreams: list[str]
    url: str = ""
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _runner: web.AppRunner | None = None
    _http: aiohttp.ClientSession | None = None
    _sockets: set[web.WebSocketResponse] = field(default_factory=set)

    async def start(self, port: int = 0) -> Balancer:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._http = aiohttp.ClientSession(auto_decompress=False)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://127.0.0.1:{bound[1]}"
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    def _order(self) -> list[str]:
        start = next(self._turn) % len(self.upstreams)
        return self.upstreams[start:] + self.upstreams[:start]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        body = b"" if websocket else await request.read()
        for upstream in self._order():
            try:
                if websocket:
                    return await self._websocket(request, upstream)
                return await self._http_request(request, upstream, body)
            except CONNECT_ERRORS:
                continue  # that node is down or restarting: the next one
        return web.json_response(
            {"error": {"code": "no_upstream", "message": "no node answers"}}, status=502
        )

    def _headers(self, request: web.Request) -> dict[str, str]:
        return {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}

    async def _http_request(
        self, request: web.Request, upstream: str, body: bytes
    ) -> web.StreamResponse:
        assert self._http is not None
        async with self._http.request(
            request.method,
            upstream + request.path_qs,
            data=body or None,
            headers=self._headers(request),
            allow_redirects=False,
        ) as answer:
            payload = await answer.read()
            headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=answer.status, body=payload, headers=headers)

    async def _websocket(self, request: web.Request, upstream: str) -> web.StreamResponse:
        assert self._http is not None
        ws_url = "ws" + upstream.removeprefix("http") + request.path_qs
        async with self._http.ws_connect(
            ws_url, headers=self._headers(request), autoclose=False, heartbeat=None
        ) as node:
            client = web.WebSocketResponse(autoclose=False)
            await client.prepare(request)
            self._sockets.add(client)
            try:
                await self._pump(client, node)
            finally:
                self._sockets.discard(client)
            return client

    async def _pump(
        self, client: web.WebSocketResponse, node: aiohttp.ClientWebSocketResponse
    ) -> None:
        """Frames both ways; a close from either side is passed on with its code and reason."""

        async def down() -> None:
            while True:
                message = await node.receive()
                if message.type == aiohttp.WSMsgType.TEXT:
                    await client.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await client.send_bytes(message.data)
                else:
                    closed = message.type == aiohttp.WSMsgType.CLOSE
                    code = message.data if closed else 1001
                    reason = (message.extra or "") if closed else ""
                    await client.close(code=int(code or 1000), message=str(reason).encode())
                    with contextlib.suppress(Exception):
                        await node.close()
                    return

        async def up() -> None:
            while True:
                message = await client.receive()
                if message.type == aiohttp.WSMsgType.TEXT:
                    await node.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await node.send_bytes(message.data)
                else:
                    code = message.data if message.type == aiohttp.WSMsgType.CLOSE else 1000
                    await node.close(code=int(code or 1000))
                    with contextlib.suppress(Exception):
                        await client.close()
                    return

        tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
