"""Automod across two nodes: held messages reach only their sender and the room's staff,
blocked terms are refused, the shop's own domain passes, spam across users is held, and a
settings change applies on every node within a second."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.channel_client import ChannelClient, pass_marker
from tests.integration.cluster import Cluster

MOD = ("moderator", "mia")


async def set_automod(cluster: Cluster, room: str, node: int = 0, **body: Any) -> Any:
    status, answer = await cluster.api(
        "POST", f"/api/rooms/{room}/moderation/automod", cluster.token(*MOD), body, node=node
    )
    assert status == 200, answer
    return answer["settings"]


async def review_queue(cluster: Cluster, room: str, node: int = 0) -> list[dict[str, Any]]:
    status, body = await cluster.api(
        "GET", f"/api/rooms/{room}/review", cluster.token(*MOD), node=node
    )
    assert status == 200, body
    return list(body["items"])


def texts(client: ChannelClient) -> list[str]:
    return [str(f["text"]) for f in client.frames if f.get("type") == "chat"]


async def test_a_held_message_reaches_only_its_sender_and_the_staff_on_every_node(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    await set_automod(cluster, room, level=2)
    sender = await cluster.join(room, "vic", node=1)
    sender_elsewhere = await cluster.join(room, "vic", node=0)
    bystanders = [await cluster.join(room, f"b{n}", node=n) for n in (0, 1)]
    anonymous = await cluster.join(room, None, node=1)
    moderator = await cluster.join(room, "mia", role="moderator", node=0)
    anchor = await cluster.join(room, "alice", role="anchor", node=1)

    await sender.send({"type": "chat", "text": "call me on 555-123-4567"})
    held = await sender.wait_for("chat_held")
    assert held["rule"] == "phone"
    assert held["text"] == "call me on 555-123-4567"
    assert (await sender_elsewhere.wait_for("chat_held"))["id"] == held["id"]
    for staff in (moderator, anchor):
        review = await staff.wait_for("review")
        assert review["message"]["id"] == held["id"]
        assert review["message"]["user"] == "vic"
        assert review["message"]["rule"] == "phone"
        assert review["message"]["visible"] is False

    everyone = [sender, sender_elsewhere, *bystanders, anonymous, moderator]
    await pass_marker(anchor, *everyone, text="marker after the held line")
    for client in everyone:
        assert "call me on 555-123-4567" not in texts(client)
    for client in (*bystanders, anonymous):
        assert client.of_type("review") == []
        assert client.of_type("chat_held") == []
    assert sender.of_type("review") == []

    queue = await review_queue(cluster, room, node=1)
    assert [item["id"] for item in queue] == [held["id"]]
    late = await cluster.join(room, "late", node=0)
    welcome = late.of_type("welcome")[0]
    assert "call me on 555-123-4567" not in [m["text"] for m in welcome["messages"]]
    for client in (*everyone, anchor, late):
        await client.close()


async def test_blocked_terms_are_refused_held_terms_held_and_the_shops_domain_passes(
    cluster: Cluster,
) -> None:
    room = await cluster.room()
    settings = await set_automod(
        cluster,
        room,
        level=2,
        blocked_terms=["Fake"],
        held_terms=["refund"],
        allowed_domains=["https://www.MyShop.com/"],
    )
    assert settings["blocked_terms"] == ["fake"]
    assert settings["allowed_domains"] == ["myshop.com"]
    viewer = await cluster.join(room, "vic")
    reader = await cluster.join(room, "rita", node=1)

    await viewer.send({"type": "chat", "text": "these are ｆａｋｅ"})
    assert (await viewer.wait_for("error"))["code"] == "blocked_term"
    await viewer.send({"type": "chat", "text": "r e f u n d me"})
    assert (await viewer.wait_for("chat_held"))["rule"] == "held_term"
    await viewer.send({"type": "chat", "text": "the set is at myshop.com/p/7"})
    await reader.wait_for(lambda f: f.get("text") == "the set is at myshop.com/p/7")
    await viewer.send({"type": "chat", "text": "cheaper on w w w . other . com"})
    assert (await viewer.wait_for(lambda f: f.get("rule") == "link"))["type"] == "chat_held"
    for client in (viewer, reader):
        await client.close()


async def test_level_zero_holds_nothing_and_staff_are_never_screened(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    viewer = await cluster.join(room, "vic")
    await viewer.send({"type": "chat", "text": "call 555-123-4567 or evil.com"})
    await viewer.wait_for(lambda f: f.get("text") == "call 555-123-4567 or evil.com")
    await set_automod(cluster, room, level=3)
    anchor = await cluster.join(room, "alice", role="anchor", node=1)
    await anchor.send({"type": "chat", "text": "my shop: evil.com 555-123-4567"})
    await viewer.wait_for(lambda f: f.get("text") == "my shop: evil.com 555-123-4567")
    assert anchor.of_type("chat_held") == []
    await viewer.close()
    await anchor.close()


async def test_the_same_message_from_several_users_and_one_users_repeats_are_held(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    await set_automod(cluster, room, level=2)
    spammers = [await cluster.join(room, f"s{n}", node=n % 2) for n in range(3)]
    reader = await cluster.join(room, "rita", node=1)
    for spammer in spammers[:2]:
        await spammer.send({"type": "chat", "text": "GET 50% OFF AT THE SALE NOW"})
        await reader.wait_for(lambda f, s=spammer: f.get("user") == s.frames[0]["you"]["user"])
    await spammers[2].send({"type": "chat", "text": "get 50 off at the sale now!!"})
    held = await spammers[2].wait_for("chat_held")
    assert held["rule"] == "copy_paste"

    crowd = [await cluster.join(room, f"c{n}") for n in range(4)]
    for member in crowd:  # a crowd answering "1" is not copy-paste: too short
        await member.send({"type": "chat", "text": "1"})
    await reader.wait_count(lambda f: f.get("text") == "1", 4)

    repeater = await cluster.join(room, "rep", node=1)
    for n in range(4):
        await repeater.send({"type": "chat", "text": "hello?"})
        if n < 3:
            await reader.wait_count(lambda f: f.get("text") == "hello?", n + 1)
    assert (await repeater.wait_for("chat_held"))["rule"] == "repeat"
    for client in (*spammers, reader, *crowd, repeater):
        await client.close()


async def test_a_settings_change_applies_on_every_node_within_a_second(cluster: Cluster) -> None:
    room = await cluster.room()
    viewer = await cluster.join(room, "vic", node=1)
    await viewer.send({"type": "chat", "text": "warm up evil.com"})  # node 1 caches level 0
    await viewer.wait_for(lambda f: f.get("text") == "warm up evil.com")
    await set_automod(cluster, room, node=0, level=2)
    await asyncio.sleep(1.0)
    await viewer.send({"type": "chat", "text": "now evil.com"})
    assert (await viewer.wait_for("chat_held"))["rule"] == "link"
    await viewer.close()


async def test_first_time_chatters_are_held_at_level_three(cluster: Cluster) -> None:
    room = await cluster.room()
    regular = await cluster.join(room, "reg")
    await regular.send({"type": "chat", "text": "hi all"})
    await regular.wait_for(lambda f: f.get("text") == "hi all")
    await set_automod(cluster, room, level=3)
    newcomer = await cluster.join(room, "new", node=1)
    await newcomer.send({"type": "chat", "text": "first words"})
    assert (await newcomer.wait_for("chat_held"))["rule"] == "first_time"
    await regular.send({"type": "chat", "text": "still here"})
    await regular.wait_for(lambda f: f.get("text") == "still here")
    for client in (regular, newcomer):
        await client.close()


async def test_automod_settings_read_back_and_staff_sockets_hear_changes(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    moderator = await cluster.join(room, "mia", role="moderator", node=1)
    viewer = await cluster.join(room, "vic", node=1)
    await set_automod(cluster, room, level=1, hold_links=True)
    frame = await moderator.wait_for("automod")
    assert frame["settings"]["level"] == 1
    assert frame["settings"]["effective"]["links"] is True
    status, body = await cluster.api(
        "GET", f"/api/rooms/{room}/moderation/automod", cluster.token("anchor", "alice")
    )
    assert status == 200
    assert body["settings"] == frame["settings"]
    await set_automod(cluster, room, hold_links=None)
    again = await moderator.wait_for(lambda f: f.get("type") == "automod" and f is not frame)
    assert again["settings"]["hold_links"] is None
    assert again["settings"]["effective"]["links"] is False
    await pass_marker(moderator, viewer, text="done")
    assert viewer.of_type("automod") == []
    await moderator.close()
    await viewer.close()
