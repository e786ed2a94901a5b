"""A real webhook receiver on loopback that verifies every signature with the official
``standardwebhooks`` library, and can be told to misbehave."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# Answer for request number n (1-based), or None to verify, record and answer 204.
Behaviour = Callable[[int], Awaitable[web.StreamResponse | None]]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Delivery:
    webhook_id: str
    body: str
    payload: dict[str, Any]
    signature: str
    at: float


@dataclass
class Receiver:
    """Verifies with ``secret`` only; ``behaviour`` may answer instead."""

    secret: str
    behaviour: Behaviour | None = None
    port: int = 0
    requests: list[float] = field(default_factory=list)
    delivered: list[Delivery] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    redirect_hits: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        if not self.port:
            self.port = free_port()
        app = web.Application()
        app.router.add_post("/hooks", self._hook)
        app.router.add_post("/elsewhere", self._elsewhere)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(time.monotonic())
        body = await request.read()
        if self.behaviour is not None:
            answer = await self.behaviour(len(self.requests))
            if answer is not None:
                return answer
        try:
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            return web.Response(status=400, text=str(exc))
        self.delivered.append(
            Delivery(
                request.headers["webhook-id"],
                body.decode(),
                payload,
                request.headers["webhook-signature"],
                time.monotonic(),
            )
        )
        return web.Response(status=204)

    async def _elsewhere(self, request: web.Request) -> web.StreamResponse:
        self.redirect_hits += 1
        return web.Response(status=204)

    def ids(self) -> list[str]:
        return [d.webhook_id for d in self.delivered]

    def bodies_by_id(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for delivery in self.delivered:
            result.setdefault(delivery.webhook_id, set()).add(delivery.body)
        return result


def payload_of(body: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(body)
    return value


async def status(code: int, **headers: str) -> web.Response:
    await asyncio.sleep(0)
    return web.Response(status=code, headers=headers)
