"""The review, automod, shield and user-card routes: only the room's staff reach them,
and every bad id or body gets a JSON 4xx naming the problem, never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.cluster import Cluster
from tests.security.http_site import site

__all__ = ["site"]

ROUTES = [
    ("GET", "/review", None),
    ("POST", "/review/h1-1/approve", None),
    ("POST", "/review/h1-1/deny", {}),
    ("GET", "/moderation/automod", None),
    ("POST", "/moderation/automod", {"level": 1}),
    ("POST", "/moderation/shield", {"on": True}),
    ("GET", "/users/vic", None),
]


async def call(
    site: Cluster, method: str, path: str, token: str | None, body: Any = None
) -> tuple[int, Any]:
    return await site.api(method, path, token, body)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_viewers_and_other_rooms_anchors_are_refused(
    site: Cluster, method: str, path: str, body: Any
) -> None:
    room = await site.room(anchor="alice")
    base = f"/api/rooms/{room}"
    for token, code in (
        (None, "unauthorized"),
        (site.token("viewer", "vic"), "forbidden_role"),
        (site.token("backend", "shop"), "forbidden_role"),
        (site.token("anchor", "bob"), "not_your_room"),
        (site.token("moderator", "mia", room="elsewhere"), "not_your_room"),
    ):
        status, answer = await call(site, method, base + path, token, body)
        assert answer["error"]["code"] == code, (path, token, answer)
        assert status in (401, 403)


@pytest.mark.parametrize(
    ("item", "decision", "code", "status"),
    [
        ("abc", "approve", "review_item_not_found", 404),
        ("h1-", "approve", "review_item_not_found", 404),
        ("1-1x", "deny", "review_item_not_found", 404),
        ("h" + "9" * 25 + "-1", "approve", "review_item_not_found", 404),
        ("1-1", "delete", "not_found", 404),
        ("h1-1", "approve", "review_item_not_found", 404),
    ],
)
async def test_bad_or_unknown_review_items(
    site: Cluster, item: str, decision: str, code: str, status: int
) -> None:
    room = await site.room(anchor="alice")
    got, answer = await call(
        site, "POST", f"/api/rooms/{room}/review/{item}/{decision}", site.token("moderator", "m")
    )
    assert (got, answer["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("path", "body", "code", "field"),
    [
        ("/moderation/automod", {}, "missing_field", None),
        ("/moderation/automod", {"level": 4}, "invalid_field", "level"),
        ("/moderation/automod", {"level": "2"}, "invalid_field", "level"),
        ("/moderation/automod", {"level": True}, "invalid_field", "level"),
        ("/moderation/automod", {"level": None}, "invalid_field", "level"),
        ("/moderation/automod", {"held_terms": "scam"}, "invalid_field", "held_terms"),
        ("/moderation/automod", {"held_terms": ["x" * 65]}, "invalid_field", "held_terms[0]"),
        ("/moderation/automod", {"held_terms": [1]}, "invalid_field", "held_terms[0]"),
        ("/moderation/automod", {"held_terms": [" "]}, "invalid_field", "held_terms[0]"),
        (
            "/moderation/automod",
            {"blocked_terms": ["a\u202eb"]},
            "invalid_field",
            "blocked_terms[0]",
        ),
        ("/moderation/automod", {"blocked_terms": ["t"] * 201}, "invalid_field", "blocked_terms"),
        ("/moderation/automod", {"allowed_domains": ["not a domain"]}, "invalid_field", None),
        ("/moderation/automod", {"allowed_domains": ["localhost"]}, "invalid_field", None),
        ("/moderation/automod", {"hold_links": "yes"}, "invalid_field", "hold_links"),
        ("/moderation/automod", {"buyers_only": None}, "invalid_field", "buyers_only"),
        ("/moderation/automod", {"shield": True}, "unknown_field", "shield"),
        ("/moderation/shield", {}, "missing_field", "on"),
        ("/moderation/shield", {"on": "yes"}, "invalid_field", "on"),
        ("/moderation/shield", {"on": True, "level": 3}, "unknown_field", "level"),
        ("/review/h1-1/deny", {"timeout_s": 0}, "invalid_field", "timeout_s"),
        ("/review/h1-1/deny", {"timeout_s": "60"}, "invalid_field", "timeout_s"),
        ("/review/h1-1/deny", {"timeout_s": 10**9}, "invalid_field", "timeout_s"),
        ("/review/h1-1/approve", {"timeout_s": 60}, "unknown_field", "timeout_s"),
    ],
)
async def test_bad_bodies_are_refused_with_the_field_named(
    site: Cluster, path: str, body: Any, code: str, field: str | None
) -> None:
    room = await site.room(anchor="alice")
    status, answer = await call(
        site, "POST", f"/api/rooms/{room}{path}", site.token("anchor", "alice"), body
    )
    assert status == 400, answer
    assert answer["error"]["code"] == code
    if field is not None:
        assert answer["error"].get("field") == field


async def test_a_user_card_needs_a_user_id(site: Cluster) -> None:
    room = await site.room(anchor="alice")
    status, answer = await call(
        site, "GET", f"/api/rooms/{room}/users/%20bad", site.token("moderator", "m")
    )
    assert (status, answer["error"]["code"]) == (400, "invalid_parameter")


async def test_terms_and_domains_are_stored_in_the_form_they_are_compared(site: Cluster) -> None:
    room = await site.room(anchor="alice")
    status, answer = await call(
        site,
        "POST",
        f"/api/rooms/{room}/moderation/automod",
        site.token("moderator", "m"),
        {"held_terms": ["ＳＣＡＭ", "scam", "ѕсаm"], "allowed_domains": ["HTTPS://Shop.Example/x"]},
    )
    assert status == 200, answer
    assert answer["settings"]["held_terms"] == ["scam"]
    assert answer["settings"]["allowed_domains"] == ["shop.example"]
