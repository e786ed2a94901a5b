"""Frames built to break the decoder get an ``error`` frame; the socket lives on
(issue 11, items 1 and 9 on the channel)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import ORDERS
from tests.bad_inputs import BadFrame, frames
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.commerce_helpers import room_with_sale

# Big enough for the frames below, so they reach the decoder instead of the size check.
LARGE_FRAMES = 1_000_000


@pytest.fixture
async def cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, max_frame_bytes=LARGE_FRAMES
    ):
        yield value


async def still_answers(client: ChannelClient) -> None:
    mark = len(client.frames)
    await client.send({"type": "ping"})
    await client.wait_for("pong", after=mark)
    assert not client.closed.is_set()


# Lone surrogates (tests/data/channel/lone_surrogates.txt), and frames built to exhaust
# the decoder: huge integers, deep nesting.
HOSTILE_JSON = [
    *frames("lone_surrogates.txt"),
    BadFrame(
        wire="json",
        data='{"type": "like", "count": ' + "9" * 5000 + "}",
        code="bad_frame",
        what="5,000-digit integer",
    ),
    BadFrame(
        wire="json",
        data='{"type": "like", "count": -' + "9" * 5000 + "}",
        code="bad_frame",
        what="negative 5,000-digit",
    ),
    BadFrame(
        wire="json",
        data='{"type": "ping", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        code="bad_frame",
        what="100k-deep arrays",
    ),
    BadFrame(
        wire="json",
        data='{"type": "ping", "x": ' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}",
        code="bad_frame",
        what="100k-deep maps",
    ),
    BadFrame(wire="json", data="[" * 100_000, code="bad_frame", what="100k open brackets"),
]


@pytest.mark.parametrize("frame", HOSTILE_JSON, ids=[f.what for f in HOSTILE_JSON])
async def test_hostile_json_frames_get_an_error_frame(cluster: Cluster, frame: BadFrame) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "v", wire=frame.wire)
    await client.send_raw(frame.data)
    error = await client.wait_for("error")
    assert error["code"] == frame.code, (frame.what, error)
    await still_answers(client)
    await client.close()


async def test_brackets_inside_strings_are_not_nesting(cluster: Cluster) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "v", wire="json")
    await client.send({"type": "chat", "text": "[[[[[[[[[[{{{{{{{{{{ ]]]]]]]]]]}}}}}}}}}}"})
    assert (await client.wait_for("chat"))["text"].startswith("[[[[")
    await client.close()


async def test_deep_msgpack_frames_get_an_error_frame(cluster: Cluster) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "v")
    await client.send_raw(b"\x82\xa4type\xa4ping\xa1x" + b"\x91" * 100_000 + b"\xc0")
    assert (await client.wait_for("error"))["code"] == "bad_frame"
    await still_answers(client)
    await client.close()


@pytest.mark.parametrize("key", ["ke\x00y", "key\n", "\u202ekey", "k\u200bey", "", "k" * 129])
async def test_a_buy_key_must_be_printable_and_bounded(cluster: Cluster, key: str) -> None:
    room, flash = await room_with_sale(cluster)
    client = await cluster.join(room, "buyer", wire="json")
    await client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": key})
    assert (await client.wait_for("error"))["code"] == "invalid_field"
    await still_answers(client)
    await client.close()


async def test_an_unexpected_error_answers_that_frame_and_keeps_the_socket(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    room, flash = await room_with_sale(cluster)
    orders = cluster.apps[0][ORDERS]
    honest_buy = orders.buy

    async def broken_once(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(orders, "buy", honest_buy)
        raise RuntimeError("a bug in buy")

    monkeypatch.setattr(orders, "buy", broken_once)
    client = await cluster.join(room, "buyer", wire="json")
    with caplog.at_level(logging.ERROR, logger="livecommerce.channel"):
        await client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": "k1"})
        error = await client.wait_for("error")
    assert error["code"] == "internal_error"
    assert any(r.exc_info and "a bug in buy" in str(r.exc_info[1]) for r in caplog.records)
    await still_answers(client)
    await client.send({"type": "buy", "sale": flash["id"], "qty": 1, "key": "k1"})
    assert (await client.wait_for("buy_result"))["ok"] is True
    await client.close()
