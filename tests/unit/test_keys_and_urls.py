"""The store key schema and the password masking of store URLs."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from livecommerce.config import cluster_startup_nodes, is_cluster_url
from livecommerce.store.client import mask_url
from livecommerce.store.keys import Keys
from livecommerce.web.rate import KeyedBuckets

PREFIXES = ["lc:", "lc:t-0123abcd:", "lc:prod:eu:"]


# Keys named by a room that outlive it, so they are kept outside its hash tag: the frozen
# analytics report (readable after the room is deleted).
OUTSIDE_THE_ROOM_TAG = ("analytics_report",)


def room_key_builders() -> dict[str, Callable[[Keys, str], str]]:
    """Every ``Keys`` method that builds one key of a room from its id alone (and that
    the room's scripts may touch)."""
    builders: dict[str, Callable[[Keys, str], str]] = {}
    for name, member in inspect.getmembers(Keys, inspect.isfunction):
        if name.startswith("_") or name in ("room_tag", *OUTSIDE_THE_ROOM_TAG):
            continue
        parameters = list(inspect.signature(member).parameters)
        if parameters == ["self", "room_id"]:
            builders[name] = member
    return builders


def global_key_builders() -> dict[str, Callable[[Keys], str]]:
    """Every ``Keys`` method that builds a key not tied to one room."""
    builders: dict[str, Callable[[Keys], str]] = {}
    for name, member in inspect.getmembers(Keys, inspect.isfunction):
        if name.startswith("_"):
            continue
        if list(inspect.signature(member).parameters) == ["self"]:
            builders[name] = member
    return builders


def all_keys(keys: Keys, room_id: str = "room-1") -> list[str]:
    return [build(keys, room_id) for build in room_key_builders().values()] + [
        build(keys) for build in global_key_builders().values()
    ]


def cluster_hash_tag(key: str) -> str | None:
    """The part of the key Redis Cluster hashes when a ``{...}`` tag is present."""
    start = key.find("{")
    if start == -1:
        return None
    end = key.find("}", start + 1)
    if end in (-1, start + 1):
        return None
    return key[start + 1 : end]


# Keys


def test_key_builders_are_found() -> None:
    assert "room" in room_key_builders()
    assert {"rooms_index", "rooms_live"} <= set(global_key_builders())


def test_room_hash_key_has_the_documented_shape() -> None:
    assert Keys().room("room-1") == "lc:{r:room-1}:room"
    assert Keys("lc:t-1:").room("abc") == "lc:t-1:{r:abc}:room"


def test_room_index_keys_have_the_documented_shape() -> None:
    assert Keys().rooms_index() == "lc:rooms"
    assert Keys().rooms_live() == "lc:rooms:live"


def test_room_tag_is_r_colon_room_in_braces() -> None:
    assert Keys.room_tag("room-1") == "{r:room-1}"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_key_of_a_room_hashes_on_the_same_room_tag(prefix: str) -> None:
    keys = Keys(prefix)

    for name, build in room_key_builders().items():
        key = build(keys, "room-42")
        assert Keys.room_tag("room-42") in key, name
        assert cluster_hash_tag(key) == "r:room-42", name


def test_keys_of_different_rooms_differ_and_hash_on_their_own_tag() -> None:
    keys = Keys()

    for name, build in room_key_builders().items():
        one, two = build(keys, "room-1"), build(keys, "room-2")
        assert one != two, name
        assert cluster_hash_tag(one) == "r:room-1", name
        assert cluster_hash_tag(two) == "r:room-2", name


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_key_starts_with_the_prefix(prefix: str) -> None:
    for key in all_keys(Keys(prefix)):
        assert key.startswith(prefix), key


def test_default_prefix_is_lc() -> None:
    assert Keys().prefix == "lc:"
    assert all(key.startswith("lc:") for key in all_keys(Keys()))


def test_different_prefixes_give_different_keys() -> None:
    one, two = all_keys(Keys("lc:t-aaaa:")), all_keys(Keys("lc:t-bbbb:"))

    assert len(one) == len(two) > 0
    for key_one, key_two in zip(one, two, strict=True):
        assert key_one != key_two
    assert set(one).isdisjoint(two)


def test_keys_of_one_prefix_are_all_distinct() -> None:
    keys = all_keys(Keys())

    assert len(keys) == len(set(keys))


# mask_url


PASSWORD = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"redis://user:{PASSWORD}@store.example:6379/0", "redis://user:***@store.example:6379/0"),
        (f"redis://:{PASSWORD}@store.example:6379", "redis://:***@store.example:6379"),
        (f"rediss://default:{PASSWORD}@store.example/1", "rediss://default:***@store.example/1"),
    ],
)
def test_password_in_authority_is_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            f"redis://store.example:6379/0?password={PASSWORD}",
            "redis://store.example:6379/0?password=***",
        ),
        (
            f"rediss://store.example:6380/0?db=1&password={PASSWORD}&ssl_cert_reqs=required",
            "rediss://store.example:6380/0?db=1&password=***&ssl_cert_reqs=required",
        ),
        (
            f"redis://store.example/0?PASSWORD={PASSWORD}",
            "redis://store.example/0?PASSWORD=***",
        ),
    ],
)
def test_password_query_parameter_is_masked(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_password_in_authority_and_query_are_both_masked() -> None:
    url = f"redis://user:{PASSWORD}@store.example:6379/0?password={PASSWORD}"

    assert mask_url(url) == "redis://user:***@store.example:6379/0?password=***"


@pytest.mark.parametrize(
    "url",
    [
        f"redis://user:{PASSWORD}@store.example:6379/0",
        f"redis://:{PASSWORD}@store.example",
        f"redis://store.example:6379/0?password={PASSWORD}",
        f"unix:///run/valkey/valkey.sock?db=0&password={PASSWORD}",
        f"rediss://user:{PASSWORD}@store.example:6380/0?password={PASSWORD}&x=1",
        f"redis://user:{PASSWORD}@[::1]:6379/0",
    ],
)
def test_masked_url_never_contains_the_password(url: str) -> None:
    masked = mask_url(url)

    assert PASSWORD not in masked
    assert "***" in masked


@pytest.mark.parametrize(
    "url",
    [
        "redis://store.example:6379/0",
        "redis://127.0.0.1:6379",
        "rediss://user@store.example:6380/1",
        "redis://store.example:6379/0?db=1&socket_timeout=5",
        "unix:///run/valkey/valkey.sock?db=0",
        "redis://store.example:6379/0?client_name=&db=1",
        "redis://store.example:6379/0?flag",
    ],
)
def test_url_without_password_is_unchanged(url: str) -> None:
    assert mask_url(url) == url


def test_masked_ipv6_url_keeps_the_brackets() -> None:
    assert mask_url(f"redis://:{PASSWORD}@[::1]:6379/0") == "redis://:***@[::1]:6379/0"


def test_masked_unix_socket_url_keeps_its_three_slashes() -> None:
    url = f"unix:///run/valkey/valkey.sock?db=0&password={PASSWORD}"

    assert mask_url(url) == "unix:///run/valkey/valkey.sock?db=0&password=***"


def test_masking_keeps_query_parameters_with_blank_values() -> None:
    url = f"redis://:{PASSWORD}@store.example:6379/0?client_name=&db=1"

    assert mask_url(url) == "redis://:***@store.example:6379/0?client_name=&db=1"


def test_keyed_buckets_limit_each_key_and_forget_the_oldest() -> None:
    buckets = KeyedBuckets(burst=2, per_s=0.001, max_keys=3)
    assert [buckets.take("a") for _ in range(3)] == [True, True, False]
    for key in ("b", "c", "d"):
        assert buckets.take(key)
    assert buckets.take("a")  # "a" was the least recently used and was forgotten


# cluster URLs


@pytest.mark.parametrize(
    ("url", "first", "nodes"),
    [
        (
            "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
            "redis://10.0.0.1:7000",
            [("10.0.0.1", 7000), ("10.0.0.2", 7001)],
        ),
        (
            f"rediss+cluster://user:{PASSWORD}@a.example,b.example:6380/0?ssl_cert_reqs=none",
            f"rediss://user:{PASSWORD}@a.example:6379/0?ssl_cert_reqs=none",
            [("a.example", 6379), ("b.example", 6380)],
        ),
        ("redis+cluster://[::1]:7000", "redis://[::1]:7000", [("::1", 7000)]),
    ],
)
def test_a_cluster_url_names_its_startup_nodes(
    url: str, first: str, nodes: list[tuple[str, int]]
) -> None:
    assert is_cluster_url(url)
    assert cluster_startup_nodes(url) == (first, nodes)


def test_plain_urls_are_not_cluster_urls_and_cluster_passwords_are_masked() -> None:
    assert not is_cluster_url("redis://store.example:6379")
    assert not is_cluster_url("unix:///run/valkey.sock")
    masked = mask_url(f"redis+cluster://u:{PASSWORD}@a:1,b:2")
    assert masked == "redis+cluster://u:***@a:1,b:2"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_frozen_report_is_outside_the_room_tag_and_per_room(prefix: str) -> None:
    keys = Keys(prefix)

    report = keys.analytics_report("room-42")

    assert report.startswith(prefix)
    assert cluster_hash_tag(report) != "r:room-42"
    assert report != keys.analytics_report("room-43")
