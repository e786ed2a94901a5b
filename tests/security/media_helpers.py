"""Shared by the media security tests: a live room, viewers that never connect."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.integration.media_peers import Viewer
from tests.integration.test_whip_whep_errors import without_candidates

SDP = {"Content-Type": "application/sdp"}
FRAGMENT = {"Content-Type": "application/trickle-ice-sdpfrag"}


async def silent_offer() -> str:
    """A valid WHEP offer whose peer is gone and that names no candidate: it never connects."""
    viewer = Viewer()
    bare, _ = without_candidates(await viewer.offer())
    await viewer.close()
    return bare


async def post_offer(
    client: TestClient, path: str, sdp: str, headers: dict[str, str] | None = None
) -> Any:
    return await client.post(path, data=sdp.encode(), headers={**SDP, **(headers or {})})


def with_candidates(sdp: str, count: int, port: int = 9) -> str:
    """``sdp`` with ``count`` host candidates added to its first media section."""
    lines = sdp.replace("\r\n", "\n").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("a=mid:")) + 1
    added = [
        f"a=candidate:{i} 1 udp {2130706431 - i} 127.0.0.1 {port + i} typ host"
        for i in range(count)
    ]
    return "\r\n".join(lines[:at] + added + lines[at:])
