"""``livecommerce-mod`` against a real node, as a moderator would use it."""

from __future__ import annotations

import asyncio
import sys

from tests.integration.cluster import Cluster


async def mod(cluster: Cluster, *args: str, token: str | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients.moderator.cli",
        "--server", cluster.urls[0],
        "--token", token or cluster.token("moderator", "mia"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_every_action_works_and_shows_in_the_log(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    viewer = await cluster.join(room, "troll", node=1)
    await viewer.send({"type": "chat", "text": "buy my stuff elsewhere"})
    message = await viewer.wait_for("chat")

    steps = [
        ("mute-room", "--for", "5m", "--reason", "heated"),
        ("unmute-room",),
        ("mute-user", "troll", "--for", "2m", "--reason", "spam"),
        ("unmute-user", "troll"),
        ("slow-mode", "10"),
        ("delete", message["id"]),
        ("ban", "troll", "--reason", "scam"),
        ("unban", "troll"),
    ]
    for step in steps:
        code, out, err = await mod(cluster, room, *step)
        assert code == 0, err
        assert out.startswith("ok: ")
    await viewer.wait_for("chat_deleted")
    await viewer.wait_for("banned")

    code, out, _ = await mod(cluster, room, "log")
    assert code == 0
    lines = out.strip().splitlines()
    expected = ["unban", "ban", "delete-message", "slow-mode", "unmute-user", "mute-user"]
    assert [line.split("  ")[2] for line in lines] == [*expected, "unmute-room", "mute-room"]
    assert "mia (moderator)" in lines[0]
    assert "— scam" in lines[1]
    assert "for 120s" in lines[5]


async def test_errors_are_reported_in_one_line_with_a_failing_exit_code(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    code, _, err = await mod(cluster, room, "ban", "troll", token=cluster.token("viewer", "v"))
    assert code == 1
    expected = "Role 'viewer' may not do this; it needs: admin, anchor, moderator."
    assert err.strip() == f"livecommerce-mod: forbidden_role: {expected}"
    code, _, err = await mod(cluster, "nosuchroom", "unmute-room")
    assert (code, err.split(":")[1].strip()) == (1, "room_not_found")
    code, _, err = await mod(cluster, room, "mute-user", "troll", "--for", "soon")
    assert code == 2
    assert "not a duration" in err
    code, _, err = await mod(cluster, room, "explode")
    assert code == 2


async def test_an_unreachable_server_is_a_clear_error(cluster: Cluster) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients.moderator.cli", "--server", "http://127.0.0.1:9",
        "--token", "t", "room1", "log",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    assert process.returncode == 1
    assert "unreachable: cannot reach http://127.0.0.1:9" in err.decode()
