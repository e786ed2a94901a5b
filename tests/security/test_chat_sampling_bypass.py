"""A viewer cannot slip past chat sampling, nor use a chat flood to push others' frames
out: the role that exempts a line comes from the token, never from the frame, and a
flood of viewer chat (many accounts, over two nodes) leaves every commerce, moderation
and staff frame in place for every socket (docs/channel.md, "Big rooms")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import ServerFactory, start_cluster

FLOOD_USERS = 8
LINES_EACH = 6


async def test_a_flood_cannot_claim_a_staff_role_nor_crowd_out_other_frames(
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
        sampling_chat_rate=5.0,
        viewer_chat_rate=1,
        chat_burst=20,
        chat_per_s=20.0,
    ):
        room = await cluster.room()
        readers = [await cluster.join(room, f"reader{n}", node=n % 2) for n in range(2)]
        flooders = [await cluster.join(room, f"f{n}", node=n % 2) for n in range(FLOOD_USERS)]
        moderator = await cluster.join(room, "mod", role="moderator", node=1)
        for round_ in range(LINES_EACH):
            for n, flooder in enumerate(flooders):
                # "role" and "user" are not fields of a client chat frame: ignored or refused.
                await flooder.send(
                    {"type": "chat", "text": f"spam {n}/{round_}", "role": "anchor", "user": "mod"}
                )
            await moderator.send({"type": "chat", "text": f"staff {round_}"})
            await asyncio.sleep(0.05)
        status, _ = await cluster.api(
            "POST",
            f"/api/rooms/{room}/moderation/slow-mode",
            cluster.token("moderator", "mod"),
            {"interval_s": 3},
        )
        for reader in readers:
            await reader.wait_for("slow_mode", timeout_s=10)
            await reader.wait_for(
                lambda f: f.get("type") == "chat" and f.get("text") == f"staff {LINES_EACH - 1}",
                timeout_s=10,
            )
        for reader in readers:
            chats = [f for f in reader.frames if f.get("type") == "chat"]
            staff = [f["text"] for f in chats if f["role"] == "moderator"]
            assert staff == [f"staff {n}" for n in range(LINES_EACH)]
            spam = [f for f in chats if f["text"].startswith("spam")]
            assert all(f["role"] == "viewer" and f["user"] != "mod" for f in spam)
            assert len(spam) < FLOOD_USERS * LINES_EACH  # sampled
            assert any(f.get("type") == "chat_sampling" and f["on"] for f in reader.frames)
        # Each flooder still sees every line it sent itself.
        for n, flooder in enumerate(flooders):
            last = f"spam {n}/{LINES_EACH - 1}"
            await flooder.wait_for(lambda f, last=last: f.get("text") == last, timeout_s=10)
            own = [f["text"] for f in flooder.frames if f.get("text", "").startswith(f"spam {n}/")]
            assert own == [f"spam {n}/{r}" for r in range(LINES_EACH)]
        assert status in (200, 204)
