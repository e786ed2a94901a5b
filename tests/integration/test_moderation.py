"""Moderation across two nodes: every action, its expiry, its audit entry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.channel_client import ChannelClient
from tests.integration.cluster import Cluster

MOD = ("moderator", "mia")


async def moderate(
    cluster: Cluster, room: str, action: str, body: Any = None, who: tuple[str, str] = MOD
) -> tuple[int, Any]:
    return await cluster.api(
        "POST",
        f"/api/rooms/{room}/moderation/{action}",
        cluster.token(*who),
        body if body is not None else {},
    )


async def test_muting_the_room_silences_viewers_but_not_the_anchor(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    viewer = await cluster.join(room, "vic", node=1)
    anchor = await cluster.join(room, "alice", role="anchor", node=0)
    status, body = await moderate(cluster, room, "mute-room", {"reason": "calm down"})
    assert status == 200, body
    assert body["entry"]["action"] == "mute-room"
    muted = await viewer.wait_for("room_muted")
    assert muted["until"] is None
    await viewer.send({"type": "chat", "text": "hello?"})
    assert (await viewer.wait_for("error"))["code"] == "room_muted"
    await anchor.send({"type": "chat", "text": "anchor speaks"})
    assert (await viewer.wait_for("chat"))["text"] == "anchor speaks"
    late = await cluster.join(room, "late", node=0)
    welcome = late.of_type("welcome")[0]
    assert welcome["room_muted"] is True
    assert welcome["you"]["can_chat"] is False
    status, _ = await moderate(cluster, room, "unmute-room")
    assert status == 200
    await viewer.wait_for("room_unmuted")
    mark = len(viewer.frames)
    await viewer.send({"type": "chat", "text": "finally"})
    await viewer.wait_for(lambda f: f.get("text") == "finally", after=mark)
    for client in (viewer, anchor, late):
        await client.close()


async def test_a_timed_room_mute_ends_by_itself_and_everyone_is_told(cluster: Cluster) -> None:
    room = await cluster.room()
    viewers = [await cluster.join(room, f"v{n}", node=n) for n in (0, 1)]
    status, _ = await moderate(cluster, room, "mute-room", {"duration_s": 1})
    assert status == 200
    for viewer in viewers:
        muted = await viewer.wait_for("room_muted")
        assert muted["until"] > 0
    for viewer in viewers:
        await viewer.wait_for("room_unmuted", timeout_s=5)
    await viewers[0].send({"type": "chat", "text": "free again"})
    assert (await viewers[1].wait_for("chat"))["text"] == "free again"
    for viewer in viewers:
        await viewer.close()


async def test_a_user_timeout_reaches_only_that_user_and_expires(cluster: Cluster) -> None:
    room = await cluster.room()
    target = await cluster.join(room, "troll", node=1)
    other = await cluster.join(room, "nice", node=0)
    status, body = await moderate(
        cluster, room, "mute-user", {"user": "troll", "duration_s": 1, "reason": "spam"}
    )
    assert status == 200, body
    muted = await target.wait_for("muted")
    assert muted["until"] == body["entry"]["until"]
    await target.send({"type": "chat", "text": "let me talk"})
    refusal = await target.wait_for("error")
    assert refusal["code"] == "muted"
    assert refusal["until"] == muted["until"]
    await other.send({"type": "chat", "text": "fine here"})
    await other.wait_for("chat")
    assert other.of_type("muted") == []
    await target.wait_for("unmuted", timeout_s=5)
    mark = len(target.frames)
    await target.send({"type": "chat", "text": "back"})
    await target.wait_for(lambda f: f.get("text") == "back", after=mark)
    await target.close()
    await other.close()


async def test_unmuting_a_user_early_cancels_the_timer(cluster: Cluster) -> None:
    room = await cluster.room()
    target = await cluster.join(room, "t")
    await moderate(cluster, room, "mute-user", {"user": "t", "duration_s": 600})
    await target.wait_for("muted")
    status, _ = await moderate(cluster, room, "unmute-user", {"user": "t"})
    assert status == 200
    await target.wait_for("unmuted")
    mark = len(target.frames)
    await target.send({"type": "chat", "text": "thanks"})
    await target.wait_for(lambda f: f.get("text") == "thanks", after=mark)
    await target.close()


async def test_a_ban_disconnects_on_every_node_and_is_refused_on_reconnect(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    sessions = [await cluster.join(room, "bad", node=n) for n in (0, 1)]
    bystander = await cluster.join(room, "good", node=1)
    status, _ = await moderate(cluster, room, "ban", {"user": "bad", "reason": "abuse"})
    assert status == 200
    for session in sessions:
        await session.wait_for("banned")
        assert await session.wait_closed() == 4403
    again = await ChannelClient.connect(
        cluster.http, cluster.urls[0], room, cluster.token("viewer", "bad")
    )
    await again.wait_for("banned")
    assert (await again.wait_for("error"))["code"] == "banned"
    assert await again.wait_closed() == 4403
    assert not bystander.closed.is_set()
    assert bystander.of_type("banned") == []
    status, _ = await moderate(cluster, room, "unban", {"user": "bad"})
    assert status == 200
    back = await cluster.join(room, "bad")
    await back.send({"type": "chat", "text": "sorry"})
    await bystander.wait_for(lambda f: f.get("text") == "sorry")
    await back.close()
    await bystander.close()


async def test_a_deleted_message_vanishes_for_everyone(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    writer = await cluster.join(room, "w", node=0)
    reader = await cluster.join(room, "r", node=1)
    await writer.send({"type": "chat", "text": "rude words"})
    message = await reader.wait_for("chat")
    status, body = await cluster.api(
        "DELETE", f"/api/rooms/{room}/messages/{message['id']}", cluster.token("anchor", "alice")
    )
    assert status == 200, body
    for client in (writer, reader):
        assert (await client.wait_for("chat_deleted"))["id"] == message["id"]
    newcomer = await cluster.join(room, "n")
    assert newcomer.of_type("welcome")[0]["messages"] == []
    status, body = await cluster.api(
        "DELETE", f"/api/rooms/{room}/messages/{message['id']}", cluster.token(*MOD)
    )
    assert status == 404
    assert body["error"]["code"] == "message_not_found"
    for client in (writer, reader, newcomer):
        await client.close()


async def test_slow_mode_spaces_out_viewers_but_not_staff(cluster: Cluster) -> None:
    room = await cluster.room()
    viewer = await cluster.join(room, "v")
    status, _ = await moderate(cluster, room, "slow-mode", {"interval_s": 30})
    assert status == 200
    assert (await viewer.wait_for("slow_mode"))["interval_s"] == 30
    await viewer.send({"type": "chat", "text": "first"})
    await viewer.wait_for("chat")
    await viewer.send({"type": "chat", "text": "second"})
    refusal = await viewer.wait_for("error")
    assert refusal["code"] == "slow_mode"
    assert refusal["until"] > 0
    staff = await cluster.join(room, "mia", role="moderator")
    for text in ("one", "two"):
        await staff.send({"type": "chat", "text": text})
        await staff.wait_for(lambda f, text=text: f.get("text") == text)
    status, _ = await moderate(cluster, room, "slow-mode", {"interval_s": 0})
    assert status == 200
    assert staff.of_type("welcome")[0]["slow_mode"] == {"interval_s": 30}
    await viewer.close()
    await staff.close()


async def test_the_audit_log_records_who_did_what_and_why(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    await moderate(cluster, room, "mute-user", {"user": "x", "duration_s": 60, "reason": "spam"})
    await moderate(
        cluster, room, "ban", {"user": "y", "reason": "scam links"}, who=("anchor", "alice")
    )
    await moderate(cluster, room, "slow-mode", {"interval_s": 5}, who=("admin", "root"))
    status, body = await cluster.api(
        "GET", f"/api/rooms/{room}/moderation/log", cluster.token("anchor", "alice"), node=1
    )
    assert status == 200
    entries = body["entries"]
    assert [
        (e["actor"], e["actor_role"], e["action"], e["target"], e["reason"]) for e in entries
    ] == [
        ("root", "admin", "slow-mode", None, None),
        ("alice", "anchor", "ban", "y", "scam links"),
        ("mia", "moderator", "mute-user", "x", "spam"),
    ]
    assert entries[2]["duration_s"] == 60
    assert entries[2]["until"] - entries[2]["ts"] == 60_000
    status, body = await cluster.api(
        "GET", f"/api/rooms/{room}/moderation/log?limit=1", cluster.token(*MOD)
    )
    assert [e["action"] for e in body["entries"]] == ["slow-mode"]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        (("anchor", "bob"), 403, "not_your_room"),
        (("viewer", "v"), 403, "forbidden_role"),
        (("backend", "b"), 403, "forbidden_role"),
    ],
)
async def test_only_staff_and_the_rooms_anchor_moderate(
    cluster: Cluster, who: tuple[str, str], status: int, code: str
) -> None:
    room = await cluster.room(anchor="alice")
    got, body = await moderate(cluster, room, "ban", {"user": "z"}, who=who)
    assert (got, body["error"]["code"]) == (status, code)
    got, body = await cluster.api("GET", f"/api/rooms/{room}/moderation/log", cluster.token(*who))
    assert (got, body["error"]["code"]) == (status, code)
    got, body = await cluster.api("DELETE", f"/api/rooms/{room}/messages/1-0", cluster.token(*who))
    assert (got, body["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    ("action", "body", "status", "code"),
    [
        ("dance", {}, 404, "not_found"),
        ("ban", {}, 400, "missing_field"),
        ("ban", {"user": "has space"}, 400, "invalid_field"),
        ("ban", {"user": 7}, 400, "invalid_field"),
        ("ban", {"user": "alice"}, 409, "conflict"),
        ("mute-user", {"user": "u"}, 400, "missing_field"),
        ("mute-user", {"user": "u", "duration_s": 0}, 400, "invalid_field"),
        ("mute-user", {"user": "u", "duration_s": "10"}, 400, "invalid_field"),
        ("mute-user", {"user": "u", "duration_s": 10**9}, 400, "invalid_field"),
        ("mute-room", {"duration_s": -5}, 400, "invalid_field"),
        ("slow-mode", {}, 400, "missing_field"),
        ("slow-mode", {"interval_s": 1.5}, 400, "invalid_field"),
        ("slow-mode", {"interval_s": 5, "colour": "red"}, 400, "unknown_field"),
        ("unban", {"user": "u", "reason": "x" * 501}, 400, "invalid_field"),
    ],
)
async def test_bad_moderation_requests_get_clear_errors_and_change_nothing(
    cluster: Cluster, action: str, body: Any, status: int, code: str
) -> None:
    room = await cluster.room(anchor="alice")
    got, answer = await moderate(cluster, room, action, body)
    assert (got, answer["error"]["code"]) == (status, code)
    _, log = await cluster.api("GET", f"/api/rooms/{room}/moderation/log", cluster.token(*MOD))
    assert log["entries"] == []


async def test_moderating_an_unknown_room_is_404(cluster: Cluster) -> None:
    status, body = await moderate(cluster, "nosuchroom", "mute-room")
    assert (status, body["error"]["code"]) == (404, "room_not_found")
