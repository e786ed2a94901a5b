"""Random frames never hurt the node or a neighbour's session."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster, ServerFactory, start_cluster


@pytest.fixture
async def unthrottled_cluster(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    """Nodes whose per-connection frame limit does not get in the way of the neighbour's
    ping after every example (that limit has tests of its own)."""
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, frames_burst=100_000
    ):
        yield cluster


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=40)
)
values = st.recursive(
    scalars | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
typed_frames = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["chat", "like", "ping", "buy", "welcome", "", "CHAT"])
        | st.text(max_size=10)
    },
    optional={"text": values, "count": values, "sale": values, "qty": values, "key": values},
)


def encode(frame: Any, as_json: bool) -> bytes | str:
    if as_json:
        return json.dumps(frame, default=repr)
    return msgpack.packb(frame, use_bin_type=True)  # type: ignore[no-any-return]


class Fuzzer:
    def __init__(self, cluster: Cluster, room: str) -> None:
        self.cluster = cluster
        self.room = room
        self.client: ChannelClient | None = None

    async def socket(self) -> ChannelClient:
        if self.client is None or self.client.closed.is_set():
            self.client = await self.cluster.join(self.room, "fuzzer", wire="msgpack")
        return self.client


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=typed_frames.map(lambda f: encode(f, False))
    | typed_frames.map(lambda f: encode(f, True))
    | values.map(lambda v: encode(v, False))
    | st.binary(max_size=300)
    | st.text(max_size=300),
)
async def test_random_frames_leave_the_node_and_neighbours_healthy(
    unthrottled_cluster: Cluster, payload: Any
) -> None:
    cluster = unthrottled_cluster
    if not hasattr(cluster, "fuzz_state"):
        room = await cluster.room()
        neighbour = await cluster.join(room, "neighbour", role="moderator", wire="json")
        cluster.fuzz_state = (Fuzzer(cluster, room), neighbour)  # type: ignore[attr-defined]
    fuzzer, neighbour = cluster.fuzz_state  # type: ignore[attr-defined]
    socket = await fuzzer.socket()
    await socket.send_raw(payload)
    mark = len(neighbour.frames)
    await neighbour.send({"type": "ping"})
    await neighbour.wait_for("pong", after=mark)
    async with cluster.http.get(cluster.urls[0] + "/healthz") as response:
        assert response.status == 200
    assert not neighbour.closed.is_set()
