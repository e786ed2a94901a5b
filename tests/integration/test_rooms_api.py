"""The rooms API over real HTTP against the real store."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_room(
    client: TestClient, token: TokenFactory, anchor: str = "alice", title: str = "Spring picks"
) -> dict[str, Any]:
    response = await client.post(
        "/api/rooms", json={"title": title}, headers=bearer(token("anchor", anchor))
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body


async def test_anchor_creates_a_scheduled_room_it_owns(
    client: TestClient, token: TokenFactory
) -> None:
    response = await client.post(
        "/api/rooms",
        json={"title": "  Tea tasting  ", "description": "Oolong and more"},
        headers=bearer(token("anchor", "alice")),
    )
    assert response.status == 201
    room = await response.json()
    assert room["title"] == "Tea tasting"
    assert room["description"] == "Oolong and more"
    assert room["anchor"] == "alice"
    assert room["status"] == "scheduled"
    assert response.headers["Location"] == f"/api/rooms/{room['id']}"
    fetched = await (await client.get(f"/api/rooms/{room['id']}")).json()
    assert fetched == room


async def test_room_ids_are_unique(client: TestClient, token: TokenFactory) -> None:
    ids = {(await create_room(client, token))["id"] for _ in range(20)}
    assert len(ids) == 20


async def test_list_shows_newest_first_and_filters_by_status(
    client: TestClient, token: TokenFactory
) -> None:
    first = await create_room(client, token, title="first")
    second = await create_room(client, token, title="second")
    third = await create_room(client, token, title="third")
    await client.post(f"/api/rooms/{second['id']}/end", headers=bearer(token("anchor", "alice")))

    everything = await (await client.get("/api/rooms")).json()
    assert [r["id"] for r in everything["rooms"]] == [third["id"], second["id"], first["id"]]

    ended = await (await client.get("/api/rooms?status=ended")).json()
    assert [r["id"] for r in ended["rooms"]] == [second["id"]]
    scheduled = await (await client.get("/api/rooms?status=scheduled")).json()
    assert [r["id"] for r in scheduled["rooms"]] == [third["id"], first["id"]]
    live = await (await client.get("/api/rooms?status=live")).json()
    assert live["rooms"] == []
    limited = await (await client.get("/api/rooms?limit=2")).json()
    assert [r["id"] for r in limited["rooms"]] == [third["id"], second["id"]]


@pytest.mark.parametrize("query", ["status=open", "limit=0", "limit=201", "limit=abc", "limit=-1"])
async def test_list_rejects_bad_query_parameters(client: TestClient, query: str) -> None:
    await assert_error(await client.get(f"/api/rooms?{query}"), 400, "invalid_parameter")


async def test_unknown_room_is_404(client: TestClient) -> None:
    await assert_error(await client.get("/api/rooms/nosuchroom"), 404, "room_not_found")
    await assert_error(await client.get("/api/rooms/bad%20id!"), 404, "room_not_found")


async def test_anchor_ends_its_room_and_ending_again_is_harmless(
    client: TestClient, token: TokenFactory
) -> None:
    room = await create_room(client, token)
    response = await client.post(
        f"/api/rooms/{room['id']}/end", headers=bearer(token("anchor", "alice"))
    )
    assert response.status == 200
    ended = await response.json()
    assert ended["status"] == "ended"
    assert isinstance(ended["ended_at"], int)
    assert ended["ended_at"] >= room["created_at"]
    again = await client.post(
        f"/api/rooms/{room['id']}/end", headers=bearer(token("anchor", "alice"))
    )
    assert again.status == 200
    assert (await again.json())["ended_at"] == ended["ended_at"]


@pytest.mark.parametrize("role", ["moderator", "admin"])
async def test_staff_may_end_any_room(client: TestClient, token: TokenFactory, role: str) -> None:
    room = await create_room(client, token)
    response = await client.post(
        f"/api/rooms/{room['id']}/end", headers=bearer(token(role, "staff"))
    )
    assert response.status == 200
    assert (await response.json())["status"] == "ended"


async def test_another_anchor_may_not_end_the_room(client: TestClient, token: TokenFactory) -> None:
    room = await create_room(client, token, anchor="alice")
    response = await client.post(
        f"/api/rooms/{room['id']}/end", headers=bearer(token("anchor", "bob"))
    )
    await assert_error(response, 403, "not_your_room")
    assert (await (await client.get(f"/api/rooms/{room['id']}")).json())["status"] == "scheduled"


async def test_anchor_token_limited_to_another_room_may_not_end_this_one(
    client: TestClient, token: TokenFactory
) -> None:
    room = await create_room(client, token, anchor="alice")
    limited = token("anchor", "alice", room="someotherroom")
    response = await client.post(f"/api/rooms/{room['id']}/end", headers=bearer(limited))
    await assert_error(response, 403, "not_your_room")
    own = token("anchor", "alice", room=room["id"])
    assert (await client.post(f"/api/rooms/{room['id']}/end", headers=bearer(own))).status == 200


@pytest.mark.parametrize("role", ["viewer", "backend"])
async def test_other_roles_may_not_end_a_room(
    client: TestClient, token: TokenFactory, role: str
) -> None:
    room = await create_room(client, token)
    response = await client.post(f"/api/rooms/{room['id']}/end", headers=bearer(token(role, "x")))
    await assert_error(response, 403, "forbidden_role")


async def test_ending_an_unknown_room_is_404(client: TestClient, token: TokenFactory) -> None:
    response = await client.post(
        "/api/rooms/nosuchroom/end", headers=bearer(token("admin", "root"))
    )
    await assert_error(response, 404, "room_not_found")


@pytest.mark.parametrize("role", ["viewer", "moderator", "admin", "backend"])
async def test_only_anchors_create_rooms(
    client: TestClient, token: TokenFactory, role: str
) -> None:
    response = await client.post(
        "/api/rooms", json={"title": "x"}, headers=bearer(token(role, "u"))
    )
    await assert_error(response, 403, "forbidden_role")


async def test_creating_without_a_token_is_401(client: TestClient) -> None:
    await assert_error(await client.post("/api/rooms", json={"title": "x"}), 401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Bearer " + "x" * 500, "token"],
)
async def test_bad_authorization_headers_are_401(client: TestClient, header: str) -> None:
    response = await client.post(
        "/api/rooms", json={"title": "x"}, headers={"Authorization": header}
    )
    assert response.status == 401
    body = await response.json()
    assert body["error"]["code"] in {"unauthorized", "token_invalid"}


async def test_expired_and_foreign_tokens_are_refused(
    client: TestClient, token: TokenFactory
) -> None:
    from livecommerce.auth import Role, issue_token

    expired = issue_token(
        "test-secret-0123456789-abcdefghijklmnop", Role.anchor, "alice", ttl_s=1, now=0
    )
    response = await client.post("/api/rooms", json={"title": "x"}, headers=bearer(expired))
    await assert_error(response, 401, "token_expired")
    foreign = issue_token("another-secret-0123456789-abcdefghijklmnop", Role.anchor, "alice")
    response = await client.post("/api/rooms", json={"title": "x"}, headers=bearer(foreign))
    await assert_error(response, 401, "token_invalid")


async def test_a_bad_token_is_refused_even_where_anyone_may_read(client: TestClient) -> None:
    response = await client.get("/api/rooms", headers={"Authorization": "Bearer garbage"})
    await assert_error(response, 401, "token_invalid")


BAD_BODIES: list[tuple[str, Any, str, int, str]] = [
    ("not json", b"{title: nope", "application/json", 400, "invalid_json"),
    ("a json array", b'["title"]', "application/json", 400, "invalid_body"),
    ("a json string", b'"title"', "application/json", 400, "invalid_body"),
    ("not utf-8", b'{"title": "\xff\xfe"}', "application/json", 400, "invalid_json"),
    ("empty", b"", "application/json", 400, "invalid_body"),
    ("missing title", b'{"description": "d"}', "application/json", 400, "missing_field"),
    ("null title", b'{"title": null}', "application/json", 400, "missing_field"),
    ("numeric title", b'{"title": 42}', "application/json", 400, "invalid_field"),
    ("list title", b'{"title": ["a"]}', "application/json", 400, "invalid_field"),
    ("blank title", b'{"title": "   "}', "application/json", 400, "invalid_field"),
    ("long title", b'{"title": "' + b"x" * 141 + b'"}', "application/json", 400, "invalid_field"),
    ("control chars", b'{"title": "a\\u0000b"}', "application/json", 400, "invalid_field"),
    (
        "bool description",
        b'{"title": "t", "description": true}',
        "application/json",
        400,
        "invalid_field",
    ),
    ("unknown field", b'{"title": "t", "price": 1}', "application/json", 400, "unknown_field"),
    (
        "form encoded",
        b"title=t",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    ("plain text", b'{"title": "t"}', "text/plain", 415, "unsupported_media_type"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
async def test_bad_room_bodies_get_a_clear_json_error_and_create_nothing(
    client: TestClient, token: TokenFactory, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = await client.post(
        "/api/rooms",
        data=body,
        headers={**bearer(token("anchor", "alice")), "Content-Type": content_type},
    )
    await assert_error(response, status, code)
    assert (await (await client.get("/api/rooms")).json())["rooms"] == []


async def test_oversize_body_is_413(client: TestClient, token: TokenFactory) -> None:
    huge = b'{"title": "' + b"x" * 1_100_000 + b'"}'
    response = await client.post(
        "/api/rooms",
        data=io.BytesIO(huge),
        headers={**bearer(token("anchor", "alice")), "Content-Type": "application/json"},
    )
    await assert_error(response, 413, "body_too_large")


async def test_oversize_chunked_body_without_length_is_413(
    client: TestClient, token: TokenFactory
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"title": "'
        for _ in range(40):
            yield b"x" * 32_768
        yield b'"}'

    response = await client.post(
        "/api/rooms",
        data=chunks(),
        headers={**bearer(token("anchor", "alice")), "Content-Type": "application/json"},
    )
    await assert_error(response, 413, "body_too_large")


async def test_unknown_paths_and_methods_answer_json(client: TestClient) -> None:
    await assert_error(await client.get("/api/nothing-here"), 404, "not_found")
    response = await client.delete("/api/rooms")
    await assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


async def test_health_and_readiness(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json()) == {"status": "ready"}
