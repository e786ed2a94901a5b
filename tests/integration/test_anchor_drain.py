"""The anchor client's room channel when its node drains (close 4503): it reconnects at
once, without the backoff of a dropped connection, and misses no chat line."""

from __future__ import annotations

import asyncio
import contextlib

from clients.anchor.channel import RoomChannel
from livecommerce.app import DRAIN_CLOSE_REASON
from livecommerce.errors import ErrorCode
from livecommerce.web.state import HUB
from tests.integration.channel_client import Frame
from tests.integration.cluster import Cluster

WAIT_S = 15.0


async def test_the_anchor_channel_comes_back_at_once_after_a_drain(cluster: Cluster) -> None:
    room = await cluster.room(anchor="alice")
    frames: list[Frame] = []
    notices: list[str] = []
    channel = RoomChannel(
        cluster.http,
        cluster.urls[0],
        room,
        cluster.token("anchor", "alice"),
        frames.append,
        notices.append,
    )
    running = asyncio.ensure_future(channel.run())
    other = await cluster.join(room, "carol", node=1)
    try:

        async def until(check: object) -> None:
            async with asyncio.timeout(WAIT_S):
                while not check():  # type: ignore[operator]  # noqa: ASYNC110
                    await asyncio.sleep(0.02)

        def texts() -> list[str]:
            """Chat lines seen, live or in a (resumed) welcome."""
            seen = []
            for frame in frames:
                lines = frame.get("messages") or [] if frame.get("type") == "welcome" else [frame]
                seen += [str(line.get("text")) for line in lines if line.get("text")]
            return seen

        await until(lambda: any(f.get("type") == "welcome" for f in frames))
        await other.send({"type": "chat", "text": "before"})
        await until(lambda: "before" in texts())

        code = ErrorCode.shutting_down.spec.close_code
        await cluster.apps[0][HUB].close_sessions(code, DRAIN_CLOSE_REASON)
        await other.send({"type": "chat", "text": "during"})
        await until(lambda: "back on the room channel" in notices)
        await until(lambda: "during" in texts())
        assert "the server is restarting; reconnecting to another node" in notices
        assert not [n for n in notices if "dropped" in n], notices  # no backoff path
        assert texts().count("during") == 1  # resumed, once
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await other.close()
