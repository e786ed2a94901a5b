"""Fixtures for integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.store_cluster import ValkeyCluster


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


@pytest.fixture
async def on_cluster(
    aiohttp_server: ServerFactory,
    valkey_cluster: ValkeyCluster,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    """Two app nodes on the Valkey cluster."""
    async for value in start_cluster(aiohttp_server, valkey_cluster, tmp_path, key_prefix, token):
        yield value


@pytest.fixture
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    """A local cluster of 3 masters with a replica each and a short node timeout, for the
    failover drills."""
    cluster = ValkeyCluster(
        tmp_path_factory.mktemp("replicated"), masters=3, replicas=3, node_timeout_ms=1000
    )
    cluster.start()
    yield cluster
    cluster.stop()
