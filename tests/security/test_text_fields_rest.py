"""Titles and descriptions reach every viewer: the characters that spoof or hide what
others read are refused in REST text fields too (issue 11, item 10's rule at the HTTP edge)."""

from __future__ import annotations

import json

import pytest

from tests.integration.cluster import Cluster
from tests.security.http_site import site

__all__ = ["site"]


async def create_room(site: Cluster, title: str) -> tuple[int, dict[str, object]]:
    async with site.http.post(
        site.urls[0] + "/api/rooms",
        data=json.dumps({"title": title}),
        headers={
            "Authorization": f"Bearer {site.token('anchor', 'ann')}",
            "Content-Type": "application/json",
        },
    ) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u202e", "\u202a", "\u2066", "\u2069", "\u2028"],
    ids=["nul", "esc", "del", "nel", "csi", "rlo", "lre", "lri", "pdi", "line-separator"],
)
async def test_a_title_with_a_spoofing_character_is_refused(site: Cluster, char: str) -> None:
    status, answer = await create_room(site, f"Sale at moc.{char}live")
    assert status == 400
    assert answer["error"] == {
        "code": "invalid_field",
        "message": "Field 'title' has control or bidi override characters.",
        "field": "title",
    }


@pytest.mark.parametrize("title", ["Été ☀️ 夏のセール", "سلام دنیا", "👩\u200d🍳 live", "a\tb"])
async def test_ordinary_titles_of_any_script_are_kept(site: Cluster, title: str) -> None:
    status, answer = await create_room(site, title)
    assert status == 201, answer
    assert answer["title"] == title
