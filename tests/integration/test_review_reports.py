"""Viewers' reports: one per reporter and message, counted across nodes; the reported
message waits in the review queue while it stays shown; N distinct reporters take it
out of the chat and hold it; moderators dismiss or delete it."""

from __future__ import annotations

from typing import Any

from tests.integration.channel_client import ChannelClient, pass_marker
from tests.integration.cluster import Cluster
from tests.integration.test_automod import review_queue
from tests.integration.test_review import decide


async def post(client: ChannelClient, text: str, reader: ChannelClient) -> dict[str, Any]:
    await client.send({"type": "chat", "text": text})
    return await reader.wait_for(lambda f: f.get("type") == "chat" and f.get("text") == text)


async def report(client: ChannelClient, message: str, reason: str = "spam") -> dict[str, Any]:
    mark = len(client.frames)
    await client.send({"type": "report", "message": message, "reason": reason})
    return await client.wait_for(
        lambda f: f.get("type") in ("report_received", "error"), after=mark
    )


async def test_three_distinct_reporters_hold_a_message(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    author = await cluster.join(room, "troll", node=0)
    moderator = await cluster.join(room, "mia", role="moderator", node=1)
    reporters = [await cluster.join(room, f"r{n}", node=n % 2) for n in range(3)]
    message = await post(author, "buy fakes here", moderator)

    first = await report(reporters[0], message["id"], "scam")
    assert first == {"type": "report_received", "message": message["id"], "duplicate": False}
    again = await report(reporters[0], message["id"], "scam!")
    assert again["duplicate"] is True
    review = await moderator.wait_for("review")
    assert review["message"]["visible"] is True
    assert review["message"]["reports"] == 1
    assert review["message"]["source"] == "reports"
    queue = await review_queue(cluster, room)
    assert [(i["id"], i["visible"], i["reports"]) for i in queue] == [(message["id"], True, 1)]

    await report(reporters[1], message["id"], "rude")
    await report(reporters[2], message["id"], "scam")
    for client in (*reporters, moderator):
        await client.wait_for(
            lambda f: f.get("type") == "chat_deleted" and f["id"] == message["id"]
        )
    held = await author.wait_for("chat_held")
    assert held["id"] == message["id"]
    assert held["rule"] == "reports"
    last = await moderator.wait_for(
        lambda f: f.get("type") == "review" and f["message"]["reports"] == 3
    )
    assert last["message"]["visible"] is False
    assert last["message"]["reasons"] == ["scam", "rude", "scam"]

    status, body = await decide(cluster, room, message["id"], "approve")
    assert status == 200, body
    back = await reporters[0].wait_for(lambda f: f.get("id") == body["chat_id"])
    assert back["text"] == "buy fakes here"
    status, log = await cluster.api(
        "GET", f"/api/rooms/{room}/moderation/log", cluster.token("moderator", "mia")
    )
    assert status == 200
    actions = [(e["action"], e["actor"], e["rule"]) for e in log["entries"]]
    assert actions[:2] == [("approve", "mia", "reports"), ("hold", "automod", "reports")]
    for client in (author, moderator, *reporters):
        await client.close()


async def test_dismissing_and_deleting_a_reported_message(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    author = await cluster.join(room, "ann", node=0)
    reader = await cluster.join(room, "rita", node=1)
    kept = await post(author, "honest question", reader)
    gone = await post(author, "rude words", reader)
    await report(reader, kept["id"])
    await report(reader, gone["id"])
    status, _ = await decide(cluster, room, kept["id"], "approve")
    assert status == 200
    status, body = await decide(cluster, room, gone["id"], "deny")
    assert status == 200
    assert body["chat_id"] is None
    await reader.wait_for(lambda f: f.get("type") == "chat_deleted" and f["id"] == gone["id"])
    await pass_marker(author, reader, text="marker")
    assert [f["id"] for f in reader.of_type("chat_deleted")] == [gone["id"]]
    assert reader.of_type("chat_held") == []
    assert author.of_type("chat_denied") == []  # it had been shown: nothing was held
    late = await cluster.join(room, "late")
    texts = [m["text"] for m in late.of_type("welcome")[0]["messages"]]
    assert "honest question" in texts
    assert "rude words" not in texts
    for client in (author, reader, late):
        await client.close()


async def test_reports_are_refused_for_own_unknown_and_too_many(cluster: Cluster) -> None:
    room = await cluster.room()
    author = await cluster.join(room, "ann")
    reader = await cluster.join(room, "rita", node=1)
    message = await post(author, "hello", reader)
    own = await report(author, message["id"])
    assert own["code"] == "invalid_field"
    missing = await report(reader, "1-1")
    assert missing["code"] == "message_not_found"
    junk = await report(reader, "not-an-id")
    assert junk["code"] == "message_not_found"
    anonymous = await cluster.join(room, None)
    assert (await report(anonymous, message["id"]))["code"] == "sign_in_required"
    for client in (author, reader, anonymous):
        await client.close()
