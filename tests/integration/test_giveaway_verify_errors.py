"""`livecommerce giveaway verify` on what cannot be verified: the server's own reason is
shown (a giveaway it does not know, a malformed id), exit 2."""

from __future__ import annotations

import argparse
import asyncio
import io

from livecommerce.commerce.verify import EXIT_UNREADABLE, run_giveaway_command
from tests.integration.cluster import Cluster


async def verify(cluster: Cluster, giveaway_id: str) -> tuple[int, str]:
    out = io.StringIO()
    args = argparse.Namespace(giveaway=giveaway_id, server=cluster.urls[0])
    code = await asyncio.to_thread(run_giveaway_command, args, out)
    return code, out.getvalue()


async def test_an_unknown_giveaway_is_reported_with_the_servers_reason(cluster: Cluster) -> None:
    room = await cluster.room()

    code, text = await verify(cluster, f"{room}-g0000000000")

    assert code == EXIT_UNREADABLE
    assert "giveaway_not_found" in text, text
    assert f"No giveaway '{room}-g0000000000'" in text, text
