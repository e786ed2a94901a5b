"""Fixtures for integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token):
        yield value
