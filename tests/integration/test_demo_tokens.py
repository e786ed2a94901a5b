"""``POST /api/demo/token``: guest viewer tokens on demo servers only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from livecommerce.app import create_app
from livecommerce.auth import Role, issue_token, verify_token
from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.demo import DEMO_BURST, DEMO_TOKEN_TTL_S
from tests.conftest import TEST_SECRET, ClientFactory, make_settings
from tests.integration.channel_client import ChannelClient
from tests.integration.test_rooms_api import assert_error, bearer

JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
async def demo(
    aiohttp_client: ClientFactory, valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str
) -> TestClient:
    settings = make_settings(valkey.url, tmp_path, key_prefix, auth={"demo_tokens": True})
    return await aiohttp_client(create_app(settings))


async def test_demo_tokens_are_off_by_default(client: TestClient) -> None:
    body = await assert_error(await client.post("/api/demo/token"), 404, "demo_disabled")
    assert "off" in body["error"]["message"]


async def test_a_guest_gets_a_fresh_viewer_token_that_works_on_the_channel(
    demo: TestClient,
) -> None:
    response = await demo.post("/api/demo/token")
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    answer = await response.json()
    assert answer["role"] == "viewer"
    assert answer["user"].startswith("guest-")
    principal = verify_token(TEST_SECRET, answer["token"])
    assert (principal.user, principal.role, principal.room) == (answer["user"], Role.viewer, None)
    assert answer["expires_at"] == principal.expires_at * 1000
    assert abs(principal.expires_at - time.time() - DEMO_TOKEN_TTL_S) < 60
    second = await (await demo.post("/api/demo/token")).json()
    assert second["user"] != answer["user"]

    anchor = issue_token(TEST_SECRET, Role.anchor, "alice")
    room = await (
        await demo.post("/api/rooms", json={"title": "Demo"}, headers=bearer(anchor))
    ).json()
    channel = await ChannelClient.connect(
        demo.session, str(demo.make_url("")).rstrip("/"), room["id"], answer["token"], "json"
    )
    try:
        welcome = await channel.wait_for("welcome")
        assert welcome["you"]["user"] == answer["user"]
        await channel.send({"type": "chat", "text": "hello"})
        line = await channel.wait_for("chat")
        assert line["user"] == answer["user"]
    finally:
        await channel.close()


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("Mia", "Mia-"),
        ("  tea lover 42 ", "tea-lover-42-"),
        ("小明", "guest-"),
        ("--__--", "guest-"),
        ("a" * 40, "a" * 24 + "-"),
    ],
)
async def test_a_name_becomes_a_safe_user_id(demo: TestClient, name: str, prefix: str) -> None:
    response = await demo.post("/api/demo/token", json={"name": name})
    assert response.status == 201, await response.text()
    user = (await response.json())["user"]
    assert user.startswith(prefix)
    assert len(user) == len(prefix) + 6


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": b"{not json", "headers": JSON}, 400, "invalid_json"),
        ({"json": ["a list"]}, 400, "invalid_body"),
        ({"json": {"name": 7}}, 400, "invalid_field"),
        ({"json": {"name": "x" * 41}}, 400, "invalid_field"),
        ({"json": {"name": "bell\x07"}}, 400, "invalid_field"),
        ({"json": {"role": "admin"}}, 400, "unknown_field"),
        ({"data": b"name=mia", "headers": TEXT}, 415, "unsupported_media_type"),
    ],
)
async def test_garbage_bodies_are_refused(
    demo: TestClient, kwargs: dict[str, object], status: int, code: str
) -> None:
    await assert_error(await demo.post("/api/demo/token", **kwargs), status, code)  # type: ignore[arg-type]


async def test_one_address_is_rate_limited(demo: TestClient) -> None:
    for _ in range(DEMO_BURST):
        assert (await demo.post("/api/demo/token")).status == 201
    response = await demo.post("/api/demo/token")
    await assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
