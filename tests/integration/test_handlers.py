"""Every handler states whom it admits, and no input makes one fail with a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecommerce.app import create_app
from livecommerce.config import Settings
from livecommerce.web.access import ADMITS_ATTRIBUTE
from tests.conftest import TokenFactory


def test_every_route_declares_the_roles_it_admits(settings: Settings) -> None:
    app = create_app(settings)
    undeclared = [
        f"{route.method} {route.resource.canonical if route.resource else '?'}"
        for route in app.router.routes()
        if route.method != "HEAD" and not hasattr(route.handler, ADMITS_ATTRIBUTE)
    ]
    assert undeclared == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
room_like = st.fixed_dictionaries(
    {}, optional={"title": json_values, "description": json_values, "extra": json_values}
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(json_values, room_like, st.binary(max_size=200)))
async def test_random_bodies_get_201_or_a_json_4xx_never_a_crash(
    client: TestClient, token: TokenFactory, body: Any
) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    response = await client.post(
        "/api/rooms",
        data=data,
        headers={
            "Authorization": f"Bearer {token('anchor', 'fuzzer')}",
            "Content-Type": "application/json",
        },
    )
    payload = await response.json()
    if response.status == 201:
        assert isinstance(payload["title"], str)
        assert payload["title"].strip() == payload["title"]
        assert 0 < len(payload["title"]) <= 140
    else:
        assert 400 <= response.status < 500, payload
        assert set(payload["error"]) >= {"code", "message"}
