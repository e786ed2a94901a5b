"""A node whose start fails part-way releases what it had started (no half-registered node)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp import web

from livecommerce import app as app_module
from livecommerce.server import run_node
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import make_settings


async def test_a_start_that_fails_part_way_closes_what_it_started(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def media_that_fails(app: web.Application) -> AsyncIterator[None]:
        raise RuntimeError("the media plane could not start")
        yield  # pragma: no cover - an async generator that never yields

    monkeypatch.setattr(app_module, "_media", media_that_fails)
    settings = make_settings(valkey.url, tmp_path, key_prefix)
    said: list[str] = []
    with pytest.raises(RuntimeError, match="media plane"):
        await run_node(settings, say=said.append)
    assert said == []  # it never said it was listening
    store = aioredis.from_url(valkey.url)
    try:
        # The node registry (started before the media plane) took its entry back out.
        assert await store.hlen(f"{key_prefix}nodes") == 0
    finally:
        await store.aclose()
