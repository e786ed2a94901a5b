"""Deleting a replay that records on another node: the store carries the request.

The node asked marks the replay ``deleting`` in the index (hidden from then on) and
waits; the recording node looks at its recordings' index entries every
``DELETION_CHECK_S`` and, finding one marked or gone, stops the recorder, its live HLS
and removes the files and the entry. Nothing is lost to a missed message: the mark
stays in the store until the recording node acts on it, and a node that was down
finds no replay for its recording at its next start (recovery skips it, the sweep
removes the files).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from livecommerce.replays.index import ReplayIndex
from livecommerce.replays.models import Replay, ReplayStatus

log = logging.getLogger("livecommerce.replays")

# How often a node looks for its recordings deleted through another node, and how long
# that other node waits for the recording to stop before it answers anyway.
DELETION_CHECK_S: Final = 1.0
DELETE_WAIT_S: Final = 10.0
DELETE_POLL_S: Final = 0.1

NodeAlive = Callable[[str], Awaitable[bool]]


async def stop_elsewhere(index: ReplayIndex, replay: Replay, node_alive: NodeAlive | None) -> bool:
    """Mark ``replay`` for deletion and wait until its recording node has removed it, or
    the recording ended there meanwhile: True. False when that node is not alive (not
    waited for) or did not act within ``DELETE_WAIT_S`` (logged): it removes the files
    at its next start or sweep."""
    await index.mark_deleting(replay)
    if replay.node_id and node_alive is not None and not await node_alive(replay.node_id):
        return False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DELETE_WAIT_S
    while loop.time() < deadline:
        current = await index.get(replay.id, deleting=True)
        if current is None or current.status is not ReplayStatus.recording:
            return True
        await asyncio.sleep(DELETE_POLL_S)
    log.warning(
        "replay %s: its recording node %s did not stop it within %.0f s; the index "
        "forgets it now, that node removes the files at its next start or sweep",
        replay.id,
        replay.node_url,
        DELETE_WAIT_S,
    )
    return False
