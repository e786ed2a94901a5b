"""Discovery scoring and ranking: pure functions, checked against a table of rooms."""

from __future__ import annotations

import pytest

from livecommerce.config import ConfigError, DiscoverySettings, build_settings
from livecommerce.rooms.discovery import Engagement, rank, score
from livecommerce.rooms.models import Room, RoomStatus

DEFAULTS = DiscoverySettings()


def live_room(room_id: str, started_at: int = 1_000) -> Room:
    return Room(room_id, room_id, "", "alice", RoomStatus.live, 0, started_at=started_at)


@pytest.mark.parametrize(
    ("engagement", "viewers", "expected"),
    [
        (Engagement(), 0, 0.0),
        (Engagement(), 500, 0.0),
        # (1 chat) / (1 viewer + 5 smoothing)
        (Engagement(chat=1), 1, 0.1667),
        # (3 chat + 5 × 1 order) / (1 + 5)
        (Engagement(chat=3, orders=1), 1, 1.3333),
        # (0.1 × 30 likes) / (5 + 5)
        (Engagement(likes=30), 5, 0.3),
        # (1 × 10 + 0.1 × 20 + 5 × 2) / (0 + 5): no viewers reported still divides safely
        (Engagement(chat=10, likes=20, orders=2), 0, 4.4),
        # a negative count from a confused caller is treated as no viewers
        (Engagement(chat=5), -3, 1.0),
    ],
)
def test_score_is_weighted_activity_per_smoothed_viewer(
    engagement: Engagement, viewers: int, expected: float
) -> None:
    assert score(engagement, viewers, DEFAULTS) == expected


def test_an_order_weighs_more_than_a_message_and_a_message_more_than_a_like() -> None:
    one = {
        kind: score(Engagement(**{kind: 1}), 10, DEFAULTS) for kind in ("chat", "likes", "orders")
    }

    assert one["orders"] > one["chat"] > one["likes"] > 0


def test_one_viewer_with_one_message_does_not_beat_a_busy_room() -> None:
    tiny = score(Engagement(chat=1), 1, DEFAULTS)
    busy = score(Engagement(chat=60), 100, DEFAULTS)

    assert busy > tiny


def test_a_small_talkative_room_beats_a_large_passive_one() -> None:
    small = score(Engagement(chat=8, orders=1), 3, DEFAULTS)
    large = score(Engagement(chat=2, likes=40), 200, DEFAULTS)

    assert small > large


def test_weights_and_smoothing_come_from_the_settings() -> None:
    settings = DiscoverySettings(
        chat_weight=2.0, like_weight=0.0, order_weight=10.0, viewer_smoothing=1.0
    )

    assert score(Engagement(chat=1, likes=100, orders=1), 1, settings) == 6.0


def test_rank_orders_by_score_then_viewers_then_latest_to_go_live() -> None:
    rooms = [
        live_room("quiet-old", started_at=1_000),
        live_room("lively", started_at=1_000),
        live_room("quiet-new", started_at=2_000),
        live_room("quiet-big", started_at=1_000),
        live_room("likes", started_at=1_000),
    ]
    viewers = [3, 1, 3, 20, 5]
    counts = [
        Engagement(),
        Engagement(chat=3, orders=1),
        Engagement(),
        Engagement(),
        Engagement(likes=30),
    ]

    ranked = rank(rooms, viewers, counts, DEFAULTS)

    assert [r.room.id for r in ranked] == ["lively", "likes", "quiet-big", "quiet-new", "quiet-old"]
    assert [r.score for r in ranked] == [1.3333, 0.3, 0.0, 0.0, 0.0]
    assert ranked[0].discovery_json(300) == {
        "score": 1.3333,
        "chat": 3,
        "likes": 0,
        "orders": 1,
        "viewers": 1,
        "window_s": 300,
    }


def test_rank_needs_one_viewer_count_and_one_engagement_per_room() -> None:
    with pytest.raises(ValueError, match="zip"):
        rank([live_room("a")], [], [Engagement()], DEFAULTS)


def test_the_slot_length_splits_the_window_into_the_configured_slots() -> None:
    assert DiscoverySettings(window_s=300, buckets=30).bucket_ms == 10_000
    assert DiscoverySettings(window_s=3, buckets=12).bucket_ms == 250
    assert DiscoverySettings(window_s=1, buckets=1).bucket_ms == 1_000


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("window_s", 0),
        ("buckets", 0),
        ("buckets", 601),
        ("chat_weight", -1.0),
        ("like_weight", float("nan")),
        ("viewer_smoothing", 0.0),
        ("max_ranked_rooms", 0),
    ],
)
def test_bad_discovery_settings_are_refused_naming_the_setting(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"^discovery\.{key}: .*\(from test\)$"):
        build_settings([("from test", {"discovery": {key: value}})])
