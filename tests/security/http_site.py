"""A two-node site for the HTTP security tests, and helpers to walk the app's routes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from livecommerce.auth import Role
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.access import ADMITS_ATTRIBUTE, ANYONE, ROOM_FROM_ATTRIBUTE, RoomFrom
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster

PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for cluster in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token):
        yield cluster


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    roles: frozenset[Role]
    room_from: RoomFrom

    @property
    def parameters(self) -> list[str]:
        return PARAMETER.findall(self.pattern)

    def path(self, **values: str) -> str:
        return PARAMETER.sub(lambda m: values.get(m.group(1), "x1"), self.pattern)

    def __str__(self) -> str:
        return f"{self.method} {self.pattern}"


def routes(app: web.Application) -> Iterator[Route]:
    """Every route of the app with the roles its handler admits (all roles for anyone)."""
    for route in app.router.routes():
        assert route.resource is not None
        admits = getattr(route.handler, ADMITS_ATTRIBUTE, None)
        assert admits is not None, f"{route.method} {route.resource.canonical} states no roles"
        roles = frozenset(Role) if admits == ANYONE else frozenset(admits)
        room_from = getattr(route.handler, ROOM_FROM_ATTRIBUTE, RoomFrom.path)
        yield Route(route.method, route.resource.canonical, roles, room_from)
