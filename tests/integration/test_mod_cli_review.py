"""``livecommerce-mod`` for moderation depth: review, approve, deny, shield, automod."""

from __future__ import annotations

from tests.integration.cluster import Cluster
from tests.integration.test_mod_cli import mod


async def test_review_approve_deny_shield_and_automod_from_the_command_line(
    cluster: Cluster,
) -> None:
    room = await cluster.room(anchor="alice")
    code, out, err = await mod(cluster, room, "automod", "--level", "2", "--allow", "myshop.com")
    assert code == 0, err
    assert "level 2 (medium)" in out
    assert "allowed domains: myshop.com" in out
    viewer = await cluster.join(room, "vic", node=1)
    reader = await cluster.join(room, "rita", node=0)
    await viewer.send({"type": "chat", "text": "call 555-123-4567"})
    phone = await viewer.wait_for("chat_held")
    await viewer.send({"type": "chat", "text": "cheaper on evil.com"})
    link = await viewer.wait_for(lambda f: f.get("type") == "chat_held" and f["rule"] == "link")

    code, out, _ = await mod(cluster, room, "review")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [phone["id"], link["id"]]
    assert "[phone, held]" in lines[0]

    code, out, _ = await mod(cluster, room, "approve", phone["id"])
    assert code == 0
    assert out.startswith(f"ok: approved {phone['id']} as ")
    await reader.wait_for(lambda f: f.get("text") == "call 555-123-4567")
    code, out, _ = await mod(cluster, room, "deny", link["id"], "--timeout", "1m")
    assert (code, out.strip()) == (0, f"ok: denied {link['id']}")
    await viewer.wait_for("muted")
    code, _, err = await mod(cluster, room, "approve", link["id"])
    assert code == 1
    assert "review_item_not_found" in err

    code, out, _ = await mod(cluster, room, "shield", "on")
    assert code == 0
    assert out.startswith("ok: shield on; slow mode 10 s")
    assert "shield on" in out.splitlines()[1]
    code, out, _ = await mod(cluster, room, "shield", "off")
    assert code == 0
    assert out.startswith("ok: shield off; slow mode 0 s")
    code, out, _ = await mod(cluster, room, "log", "--limit", "6")
    actions = [line.split("  ")[2] for line in out.strip().splitlines()]
    assert actions == ["shield-off", "shield-on", "deny", "approve", "hold", "hold"]
    assert "automod (automod)" in out
    for client in (viewer, reader):
        await client.close()


async def test_automod_without_options_shows_the_settings(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    code, out, _ = await mod(cluster, room, "automod")
    assert code == 0
    assert out.splitlines()[:2] == ["level 0 (off)", "holds: nothing"]
    code, _, err = await mod(cluster, room, "automod", "--first-time", "default")
    assert code == 2
    assert "--first-time is on or off" in err
