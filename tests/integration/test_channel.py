"""The room channel over real WebSockets, on two nodes sharing one store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.bad_inputs import BadFrame, frames
from tests.conftest import TokenFactory
from tests.integration.channel_client import ChannelClient, pass_marker
from tests.integration.cluster import Cluster, ServerFactory, start_cluster


async def test_an_anonymous_viewer_gets_a_read_only_welcome(cluster: Cluster) -> None:
    room = await cluster.room()
    viewer = await cluster.join(room)
    welcome = viewer.of_type("welcome")[0]
    assert welcome["room"]["id"] == room
    assert welcome["messages"] == []
    assert welcome["resumed"] is False
    assert welcome["you"] == {
        "user": None,
        "role": "anonymous",
        "muted_until": None,
        "can_chat": False,
    }
    await viewer.send({"type": "chat", "text": "hi"})
    error = await viewer.wait_for("error")
    assert error["code"] == "sign_in_required"
    await viewer.send({"type": "like", "count": 1})
    await viewer.wait_for(
        lambda f: f.get("code") == "sign_in_required", after=len(viewer.frames) - 1
    )
    await viewer.close()


@pytest.mark.parametrize(("sender_wire", "reader_wire"), [("json", "msgpack"), ("msgpack", "json")])
async def test_chat_crosses_nodes_and_formats(
    cluster: Cluster, sender_wire: str, reader_wire: str
) -> None:
    room = await cluster.room()
    sender = await cluster.join(room, "ann", node=0, wire=sender_wire)
    reader = await cluster.join(room, "bob", node=1, wire=reader_wire)
    await sender.send({"type": "chat", "text": "  Is it silk?  "})
    received = await reader.wait_for("chat")
    assert received["user"] == "ann"
    assert received["role"] == "viewer"
    assert received["text"] == "Is it silk?"
    assert isinstance(received["ts"], int)
    assert received["id"].split("-")[0] == str(received["ts"])
    echoed = await sender.wait_for("chat")
    assert echoed == received
    await sender.close()
    await reader.close()


async def test_a_newcomer_gets_recent_history_in_order(cluster: Cluster) -> None:
    room = await cluster.room()
    talker = await cluster.join(room, "ann", role="moderator")
    for n in range(4):
        await talker.send({"type": "chat", "text": f"message {n}"})
        await talker.wait_for(lambda f, n=n: f.get("text") == f"message {n}")
    newcomer = await cluster.join(room, "bob", node=1)
    welcome = newcomer.of_type("welcome")[0]
    assert [m["text"] for m in welcome["messages"]] == [f"message {n}" for n in range(4)]
    await talker.close()
    await newcomer.close()


async def test_a_reconnecting_client_resumes_from_its_last_message(cluster: Cluster) -> None:
    room = await cluster.room()
    talker = await cluster.join(room, "ann", role="moderator")
    await talker.send({"type": "chat", "text": "one"})
    first = await talker.wait_for("chat")
    for text in ("two", "three"):
        await talker.send({"type": "chat", "text": text})
        await talker.wait_for(lambda f, text=text: f.get("text") == text)
    back = await cluster.join(room, "bob", node=1, resume=first["id"])
    welcome = back.of_type("welcome")[0]
    assert welcome["resumed"] is True
    assert [m["text"] for m in welcome["messages"]] == ["two", "three"]
    await talker.close()
    await back.close()


async def test_resuming_from_beyond_the_kept_history_gets_a_fresh_welcome(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    async for cluster in start_cluster(
        aiohttp_server,
        valkey,
        tmp_path,
        key_prefix,
        token,
        history_size=3,
        welcome_messages=2,
        frames_burst=1000,
    ):
        room = await cluster.room()
        talker = await cluster.join(room, "ann", role="admin")
        ids = []
        for n in range(120):
            await talker.send({"type": "chat", "text": f"m{n}"})
            ids.append((await talker.wait_for(lambda f, n=n: f.get("text") == f"m{n}"))["id"])
        back = await cluster.join(room, "bob", resume=ids[0])
        welcome = back.of_type("welcome")[0]
        assert welcome["resumed"] is False
        assert [m["text"] for m in welcome["messages"]] == ["m118", "m119"]
        await talker.close()
        await back.close()


async def test_chat_is_rate_limited_per_user(cluster: Cluster) -> None:
    room = await cluster.room()
    chatty = await cluster.join(room, "chatty")
    for n in range(6):
        await chatty.send({"type": "chat", "text": f"spam {n}"})
    error = await chatty.wait_for("error")
    assert error["code"] == "rate_limited"
    assert error["until"] > 0
    await chatty.wait_count("chat", 5)
    # Nothing of the refused sixth message comes later: a marker overtakes nothing.
    marker = await cluster.join(room, "marker")
    await pass_marker(marker, chatty, text="marker")
    assert [f["text"] for f in chatty.of_type("chat")] == [
        *(f"spam {n}" for n in range(5)),
        "marker",
    ]
    await marker.close()
    # The same user on another node shares the bucket.
    again = await cluster.join(room, "chatty", node=1)
    await again.send({"type": "chat", "text": "from elsewhere"})
    assert (await again.wait_for("error"))["code"] == "rate_limited"
    await chatty.close()
    await again.close()


async def test_blocked_terms_are_refused_with_a_reason(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, blocked_terms=["Scam"]
    ):
        room = await cluster.room()
        viewer = await cluster.join(room, "v")
        await viewer.send({"type": "chat", "text": "this is a SCAMmy deal"})
        error = await viewer.wait_for("error")
        assert error["code"] == "blocked_term"
        await viewer.send({"type": "chat", "text": "lovely"})
        assert (await viewer.wait_for("chat"))["text"] == "lovely"
        await viewer.close()


# The hand-made bad frames (tests/data/channel/bad_frames.txt), and two built from the
# limits: chat text over channel.max_chat_chars (500), a frame over max_frame_bytes (4096).
BAD_FRAMES = [
    *frames("bad_frames.txt"),
    BadFrame(
        wire="json",
        data='{"type": "chat", "text": "' + "x" * 501 + '"}',
        code="message_too_long",
        what="chat text of 501 characters",
    ),
    BadFrame(
        wire="json",
        data='{"type": "chat", "text": "' + "y" * 5000 + '"}',
        code="bad_frame",
        what="a frame of 5,000 bytes",
    ),
]


@pytest.mark.parametrize("frame", BAD_FRAMES, ids=[f.what for f in BAD_FRAMES])
async def test_bad_frames_get_an_error_frame_and_the_connection_lives(
    cluster: Cluster, frame: BadFrame
) -> None:
    room = await cluster.room()
    client = await cluster.join(room, "v", wire=frame.wire)
    await client.send_raw(frame.data)
    error = await client.wait_for("error")
    assert error["code"] == frame.code
    assert error["message"]
    await client.send({"type": "ping"})
    assert (await client.wait_for("pong"))["ts"] > 0
    await client.close()


async def test_a_client_that_keeps_sending_garbage_is_disconnected(cluster: Cluster) -> None:
    room = await cluster.room()
    garbage = await cluster.join(room, "g", wire="json")
    neighbour = await cluster.join(room, "n", wire="json")
    for _ in range(15):
        await garbage.send_raw("garbage")
    assert await garbage.wait_closed() == 4400
    assert any(f.get("code") == "too_many_bad_frames" for f in garbage.frames)
    await neighbour.send({"type": "chat", "text": "still here"})
    assert (await neighbour.wait_for("chat"))["text"] == "still here"
    await neighbour.close()


async def test_likes_from_both_nodes_add_up(cluster: Cluster) -> None:
    room = await cluster.room()
    left = await cluster.join(room, "a", node=0)
    right = await cluster.join(room, "b", node=1)
    for _ in range(3):
        await left.send({"type": "like", "count": 2})
        await right.send({"type": "like", "count": 5})
    await left.wait_for(lambda f: f.get("type") == "likes" and f["total"] == 21)
    await right.wait_for(lambda f: f.get("type") == "likes" and f["total"] == 21)
    totals = [f["total"] for f in left.of_type("likes")]
    assert totals == sorted(totals)
    newcomer = await cluster.join(room, "c")
    assert newcomer.of_type("welcome")[0]["likes"] == 21
    for client in (left, right, newcomer):
        await client.close()


async def test_viewer_counts_sum_over_nodes_and_follow_leavers(cluster: Cluster) -> None:
    room = await cluster.room()
    first = await cluster.join(room, node=0)
    second = await cluster.join(room, "u2", node=0)
    third = await cluster.join(room, "u3", node=1)
    await first.wait_for(lambda f: f.get("type") == "viewers" and f["count"] == 3)
    await third.wait_for(lambda f: f.get("type") == "viewers" and f["count"] == 3)
    # The anchor watching its own room and a moderator are not audience.
    anchor = await cluster.join(room, "alice", role="anchor", node=1)
    moderator = await cluster.join(room, "mia", role="moderator", node=0)
    mark = len(first.frames)
    await third.close()
    await first.wait_for(lambda f: f.get("type") == "viewers" and f["count"] == 2, after=mark)
    await anchor.wait_for(lambda f: f.get("type") == "viewers" and f["count"] == 2)
    _, state = await cluster.api("GET", f"/api/rooms/{room}")
    assert state["viewers"] == 2
    for client in (first, second, anchor, moderator):
        await client.close()


async def test_ending_the_room_tells_every_client(cluster: Cluster) -> None:
    room = await cluster.room()
    viewers = [await cluster.join(room, node=n) for n in (0, 1)]
    status, _ = await cluster.api(
        "POST", f"/api/rooms/{room}/end", cluster.token("anchor", "alice")
    )
    assert status == 200
    for viewer in viewers:
        assert (await viewer.wait_for("room_ended"))["room"] == room
    late = await ChannelClient.connect(cluster.http, cluster.urls[0], room)
    assert (await late.wait_for("error"))["code"] == "room_ended"
    assert await late.wait_closed() == 4410
    for viewer in viewers:
        await viewer.close()


@pytest.mark.parametrize(
    ("room_id", "bad_token", "code", "close_code"),
    [
        ("nosuchroom", None, "room_not_found", 4404),
        (None, "not-a-token", "token_invalid", 4401),
    ],
)
async def test_refusals_arrive_as_an_error_frame_and_a_close_code(
    cluster: Cluster, room_id: str | None, bad_token: str | None, code: str, close_code: int
) -> None:
    room = room_id or await cluster.room()
    client = await ChannelClient.connect(cluster.http, cluster.urls[0], room, bad_token, "json")
    assert (await client.wait_for("error"))["code"] == code
    assert await client.wait_closed() == close_code


async def test_bad_query_parameters_are_refused_before_the_upgrade(cluster: Cluster) -> None:
    room = await cluster.room()
    for query in ("format=xml", "resume=yesterday"):
        async with cluster.http.get(f"{cluster.urls[0]}/ws/rooms/{room}?{query}") as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "invalid_parameter"


async def test_a_slow_reader_is_dropped_without_hurting_others(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    async for cluster in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, send_buffer_bytes=65_536
    ):
        room = await cluster.room()
        # A raw socket that completes the handshake and then never reads.
        host, port = cluster.urls[0].removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"GET /ws/rooms/{room}?format=json HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await writer.drain()
        assert b"101" in await reader.readline()
        healthy = await cluster.join(room, "h")
        from livecommerce.web.state import BUS, HUB

        bus, hub = cluster.apps[0][BUS], cluster.apps[0][HUB]
        big = "x" * 60_000
        for n in range(400):
            await bus.publish(
                room,
                {
                    "type": "chat",
                    "id": f"1-{n}",
                    "user": "u",
                    "role": "anchor",  # never sampled away, however fast it comes
                    "text": big,
                    "ts": 1,
                },
            )
            if hub.local_viewers(room) == 1:
                break
        assert hub.local_viewers(room) == 1, "the slow reader was not dropped"
        last_id = f"1-{n}"
        await healthy.wait_for(
            lambda f, last_id=last_id: f.get("type") == "chat" and f["id"] == last_id,
            timeout_s=10,
        )
        writer.close()
        await writer.wait_closed()
        await healthy.close()


async def test_a_dead_nodes_viewers_vanish_from_the_count(
    cluster: Cluster, valkey: EmbeddedValkey, key_prefix: str, tmp_path: Path
) -> None:
    import signal

    from tests.conftest import TEST_SECRET
    from tests.integration.nodes import Node, clean_env

    room = await cluster.room()
    env = clean_env(
        LIVECOMMERCE_STORE_KEY_PREFIX=key_prefix,
        LIVECOMMERCE_AUTH_SECRET=TEST_SECRET,
        LIVECOMMERCE_CHANNEL_VIEWERS_INTERVAL_S="0.1",
        LIVECOMMERCE_CHANNEL_PRESENCE_TTL_S="1",
    )
    doomed = Node(tmp_path / "doomed", "--redis-url", valkey.url, env=env)
    try:
        doomed.wait_ready()
        remote = [
            await ChannelClient.connect(cluster.http, doomed.url, room, wire="json")
            for _ in range(2)
        ]
        for client in remote:
            await client.wait_for("welcome")
        local = await cluster.join(room)
        await local.wait_for(lambda f: f.get("type") == "viewers" and f["count"] == 3)
        status, view = await cluster.api("GET", f"/api/rooms/{room}")
        assert (status, view["viewers"]) == (200, 3)
        mark = len(local.frames)
        doomed.signal(signal.SIGKILL)
        await local.wait_for(
            lambda f: f.get("type") == "viewers" and f["count"] == 1, after=mark, timeout_s=10
        )
        for client in remote:
            await client.close()
        await local.close()
    finally:
        doomed.close()


async def test_a_flood_of_frames_is_answered_with_rate_limited(cluster: Cluster) -> None:
    room = await cluster.room()
    flooder = await cluster.join(room, "f", wire="json")
    for _ in range(60):
        await flooder.send({"type": "ping"})
    await flooder.wait_for(lambda f: f.get("code") == "rate_limited")
    # Every ping is answered: a pong, or a rate_limited error.
    answers = await flooder.wait_count(
        lambda f: f.get("type") == "pong" or f.get("code") == "rate_limited", 60
    )
    assert len(answers) == 60
    pongs = len(flooder.of_type("pong"))
    assert 40 <= pongs < 60
    assert not flooder.closed.is_set()
    await flooder.close()
