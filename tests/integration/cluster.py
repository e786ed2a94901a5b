"""Two app instances (two nodes) on one store, for channel and moderation tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory, make_settings
from tests.integration.channel_client import ChannelClient
from tests.openapi_check import breaches, check_answers

FAST_COMMERCE = {"sweep_interval_s": 0.1, "stock_interval_s": 0.05}
FAST_CHANNEL = {"viewers_interval_s": 0.1, "likes_interval_s": 0.05, "presence_ttl_s": 1.0}
ServerFactory = Callable[..., Awaitable[TestServer]]


@dataclass
class Cluster:
    """Two nodes on one store, an HTTP session, and a token factory."""

    urls: list[str]
    apps: list[web.Application]
    http: aiohttp.ClientSession
    token: TokenFactory

    async def api(
        self, method: str, path: str, token: str | None = None, json: Any = None, node: int = 0
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, self.urls[node] + path, json=json, headers=headers
        ) as response:
            return response.status, await response.json()

    async def room(self, anchor: str = "alice", title: str = "Live room") -> str:
        status, body = await self.api(
            "POST", "/api/rooms", self.token("anchor", anchor), {"title": title}
        )
        assert status == 201, body
        return str(body["id"])

    async def join(
        self,
        room: str,
        user: str | None = None,
        role: str = "viewer",
        node: int = 0,
        wire: str = "msgpack",
        **query: str,
    ) -> ChannelClient:
        token = self.token(role, user) if user else None
        client = await ChannelClient.connect(self.http, self.urls[node], room, token, wire, **query)
        await client.wait_for("welcome")
        return client


async def start_cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    sections: dict[str, dict[str, Any]] | None = None,
    **channel: Any,
) -> AsyncIterator[Cluster]:
    extra = dict(sections or {})
    extra["channel"] = {**FAST_CHANNEL, **extra.get("channel", {}), **channel}
    extra["commerce"] = {**FAST_COMMERCE, **extra.get("commerce", {})}
    settings = make_settings(valkey.url, tmp_path, key_prefix, **extra)
    # Every answer of both nodes must match /openapi.json (tests/openapi_check.py).
    apps = [check_answers(create_app(settings)), check_answers(create_app(settings))]
    servers = [await aiohttp_server(app) for app in apps]
    async with aiohttp.ClientSession() as http:
        yield Cluster([str(s.make_url("")).rstrip("/") for s in servers], apps, http, token)
    found = [breach for app in apps for breach in breaches(app)]
    assert not found, "answers that break /openapi.json:\n" + "\n".join(found)


def cluster_with(sections: dict[str, dict[str, Any]] | None = None) -> Any:
    """A ``cluster`` fixture: two nodes on the session's store with these settings
    sections. A test module that needs other settings assigns it:
    ``cluster = cluster_with({"analytics": {"watch_interval_s": 0.2}})``."""

    @pytest.fixture
    async def cluster(
        aiohttp_server: ServerFactory,
        valkey: EmbeddedValkey,
        tmp_path: Path,
        key_prefix: str,
        token: TokenFactory,
    ) -> AsyncIterator[Cluster]:
        async for value in start_cluster(
            aiohttp_server, valkey, tmp_path, key_prefix, token, sections
        ):
            yield value

    return cluster
