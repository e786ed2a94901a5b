"""Random frames never hurt the node or a neighbour's session, and every frame the node
cannot take is answered to its sender: an ``error`` frame, or a close with 4400."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from livecommerce.store.embedded import EmbeddedValkey
from livecommerce.web.state import SETTINGS
from tests.bad_inputs import frames
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient, Frame
from tests.integration.cluster import Cluster, ServerFactory, start_cluster

TestFunction = Callable[..., object]
WIRES = ("msgpack", "json")
TOO_MANY_BAD_FRAMES = 4400
# The hand-made bad frames of tests/data/channel/, replayed before the random ones.
CORPUS = [*frames("bad_frames.txt"), *frames("lone_surrogates.txt")]


@dataclass
class FuzzSite:
    """The cluster, its room, a fuzzer socket per wire format and a neighbour."""

    cluster: Cluster
    room: str = ""
    neighbour: ChannelClient | None = None
    sockets: dict[str, ChannelClient] = field(default_factory=dict)
    # Chat lines each socket had accepted: each comes back to it once (each format's
    # socket is its own user).
    chats: dict[str, int] = field(default_factory=dict)

    async def socket(self, wire: str) -> ChannelClient:
        client = self.sockets.get(wire)
        if client is None or client.closed.is_set():
            client = await self.cluster.join(self.room, f"fuzzer-{wire}", wire=wire)
            self.sockets[wire] = client
            self.chats[wire] = 0
        return client


@pytest.fixture
async def site(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[FuzzSite]:
    """Nodes whose per-connection frame limit does not get in the way of the neighbour's
    ping after every example (that limit has tests of its own)."""
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, frames_burst=100_000
    ):
        fuzz = FuzzSite(cluster)
        fuzz.room = await cluster.room()
        fuzz.neighbour = await cluster.join(fuzz.room, "neighbour", role="moderator", wire="json")
        yield fuzz


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

# Frames of the client types with fields of the right types, so that many get past the
# decoder to the chat, like and buy paths (and their refusals: rate limits, bad ids).
plausible_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["chat", "like", "ping", "buy"])},
    optional={
        "text": st.text(max_size=40),
        "count": st.integers(min_value=-5, max_value=100),
        "sale": st.text(max_size=12),
        "qty": st.integers(min_value=-2, max_value=2000),
        "key": st.text(max_size=12),
    },
)


def encode(frame: object, as_json: bool) -> bytes | str:
    if as_json:
        return json.dumps(frame, default=repr)
    packed: bytes = msgpack.packb(frame, use_bin_type=True)
    return packed


def decoded(wire: str, payload: bytes | str) -> object:
    """The payload as this test reads it in the socket's format; None when unreadable."""
    try:
        if wire == "msgpack":
            return msgpack.unpackb(payload, raw=False) if isinstance(payload, bytes) else None
        return json.loads(payload) if isinstance(payload, str) else None
    except Exception:
        return None


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def may_be_taken(frame: object, max_likes: int) -> bool:
    """Whether the node may take ``frame`` without an error: a map of a client type with
    fields of the right types (a superset of what it takes; anything else is refused)."""
    if not isinstance(frame, dict):
        return False
    kind = frame.get("type")
    if kind == "ping":
        return True
    if kind == "chat":
        return isinstance(frame.get("text"), str)
    if kind == "like":
        count = frame.get("count", 1)
        return is_int(count) and 1 <= count <= max_likes
    if kind == "buy":
        qty = frame.get("qty", 1)
        return (
            isinstance(frame.get("sale"), str) and isinstance(frame.get("key"), str) and is_int(qty)
        )
    return False


async def answers_to(client: ChannelClient, payload: bytes | str, kind: object) -> list[Frame]:
    """Send ``payload`` and a ping; the frames the socket got since, up to its close or
    the answer to the ping.

    A socket's frames are handled in order, so the payload's answer (an error, a pong, a
    ``buy_result``) comes before the ping's pong: wait for one pong more than the
    payload's own."""
    mark = len(client.frames)
    with contextlib.suppress(ConnectionError):
        await client.send_raw(payload)
        await client.send({"type": "ping"})

    def answered() -> bool:
        after = client.frames[mark:]
        pongs = sum(1 for f in after if f.get("type") == "pong")
        refused = any(f.get("type") == "error" for f in after)
        return pongs >= 2 or (pongs == 1 and (refused or kind != "ping"))

    try:
        await client.wait_until(answered)
    except AssertionError:
        if not client.closed.is_set():
            raise
        # Closed first: judged by its close code.
    return client.frames[mark:]


def encoded(maps: st.SearchStrategy[object]) -> st.SearchStrategy[tuple[str, bytes | str]]:
    """Frames on a socket of either format, each encoded in its socket's format."""
    return st.sampled_from(WIRES).flatmap(
        lambda wire: st.tuples(st.just(wire), maps.map(lambda f: encode(f, wire == "json")))
    )


garbage = st.tuples(
    st.sampled_from(WIRES),
    typed_frames.map(lambda f: encode(f, False))
    | typed_frames.map(lambda f: encode(f, True))
    | values.map(lambda v: encode(v, False))
    | st.binary(max_size=300)
    | st.text(max_size=300),
)
# Well-formed chat lines in a row: the sixth is over the user's chat burst (5), a refusal
# that must be answered too.
CHAT_BURST: list[tuple[str, bytes | str]] = [
    ("json", json.dumps({"type": "chat", "text": f"line {n}"})) for n in range(7)
]


def with_examples(cases: list[tuple[str, bytes | str]]) -> Callable[[TestFunction], TestFunction]:
    """Hypothesis examples of ``cases`` (socket format, frame), run before random ones."""

    def decorate(test: TestFunction) -> TestFunction:
        for case in reversed(cases):  # Hypothesis runs them last added first
            test = example(case=case)(test)
        return test

    return decorate


@with_examples([(captured.wire, captured.data) for captured in CORPUS] + CHAT_BURST)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=encoded(typed_frames) | encoded(plausible_frames) | garbage)
async def test_random_frames_are_answered_and_leave_the_node_and_neighbours_healthy(
    site: FuzzSite, case: tuple[str, bytes | str]
) -> None:
    wire, payload = case
    cluster, neighbour = site.cluster, site.neighbour
    assert neighbour is not None
    max_likes = cluster.apps[0][SETTINGS].channel.max_likes_per_frame
    socket = await site.socket(wire)
    frame = decoded(wire, payload)
    kind = frame.get("type") if isinstance(frame, dict) else None
    answers = await answers_to(socket, payload, kind)
    errors = [f for f in answers if f.get("type") == "error"]
    assert not [e for e in errors if e.get("code") == "internal_error"], (payload, errors)
    if socket.closed.is_set():
        assert await socket.wait_closed() == TOO_MANY_BAD_FRAMES, (payload, socket.frames[-3:])
    elif not errors:
        assert may_be_taken(frame, max_likes), f"{payload!r} was taken without an answer"
        if kind == "ping":
            assert [f.get("type") for f in answers].count("pong") == 2, (payload, answers)
        elif kind == "buy":
            assert any(f.get("type") == "buy_result" for f in answers), (payload, answers)
        elif kind == "chat":
            site.chats[wire] += 1
            await socket.wait_count(
                lambda f: f.get("type") == "chat" and f.get("user") == f"fuzzer-{wire}",
                site.chats[wire],
            )

    mark = len(neighbour.frames)
    await neighbour.send({"type": "ping"})
    await neighbour.wait_for("pong", after=mark)
    async with cluster.http.get(cluster.urls[0] + "/healthz") as response:
        assert response.status == 200
    assert not neighbour.closed.is_set()
