"""Reading node ids out of media session ids, and registry entries out of the store."""

from __future__ import annotations

import pytest

from livecommerce.nodes.registry import NodeInfo, node_of_session


@pytest.mark.parametrize(
    ("session_id", "node"),
    [
        ("0123456789ab.lInjw6QJZ0BURYX27ydRbA", "0123456789ab"),
        ("lInjw6QJZ0BURYX27ydRbA", None),  # sessions of a node that names no node
        (".lInjw6QJZ0BURYX27ydRbA", None),
        ("0123456789ab.", None),
        ("", None),
    ],
)
def test_the_node_of_a_session_is_the_part_before_the_dot(
    session_id: str, node: str | None
) -> None:
    assert node_of_session(session_id) == node


def test_an_entry_round_trips_through_the_store_format() -> None:
    entry = NodeInfo("n1", "http://10.0.0.5:8080", 1, 2, 3)
    assert NodeInfo.from_json("n1", entry.to_store().encode()) == entry
    assert entry.to_json() == {
        "id": "n1", "url": "http://10.0.0.5:8080", "started_at": 1, "seen_at": 2, "expires_at": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"url": "x"}',
        b'{"url": "x", "started_at": "a", "seen_at": 1, "expires_at": 1}',
    ],
)
def test_an_unreadable_entry_is_skipped_not_fatal(raw: bytes) -> None:
    assert NodeInfo.from_json("n1", raw) is None
