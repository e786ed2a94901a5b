"""Browser tests: one server node pair on the shared store, a webhook receiver, Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from livecommerce.store.embedded import EmbeddedValkey
from tests.browser.chrome import chromium
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.webhook_receiver import Receiver, new_secret

FAST_HOOKS = {"poll_interval_s": 0.05, "initial_backoff_s": 0.05, "max_backoff_s": 0.5}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver(new_secret()).start()
    yield started
    await started.stop()


@pytest.fixture
def demo_tokens() -> bool:
    """Override in a module to run the nodes with ``auth.demo_tokens``."""
    return False


@pytest.fixture
def ice_servers() -> list[dict[str, Any]]:
    """Override in a module to announce ICE servers (``media.ice_servers``)."""
    return []


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
    receiver: Receiver,
    demo_tokens: bool,
    ice_servers: list[dict[str, Any]],
) -> AsyncIterator[Cluster]:
    """Two nodes: the browser uses node 0, other clients may use node 1."""
    sections = {
        "media": {"loopback_candidates": True, "ice_servers": ice_servers},
        "hooks": {**FAST_HOOKS, "endpoints": [{"url": receiver.url, "secret": receiver.secret}]},
        "auth": {"demo_tokens": demo_tokens},
    }
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections
    ):
        yield cluster


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched
