"""``giveaway_ended`` lists the entrants up to ``formats.giveaway_ended_entrants_max`` and
says so when it leaves them out; ``entrants_count`` is always there. A keyed ``enter`` is
answered with its key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.commerce import draw
from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.formats_helpers import giveaway

CAP = 3


@pytest.fixture
async def capped(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"formats": {"giveaway_ended_entrants_max": CAP}}
    async for value in start_cluster(aiohttp_server, valkey, tmp_path, key_prefix, token, sections):
        yield value


async def ended_with(cluster: Cluster, users: list[str]) -> tuple[dict[str, object], str]:
    room = await cluster.room()
    prize = await giveaway(cluster, room, winners=2, duration_s=60)
    clients = [await cluster.join(room, user, node=n % 2) for n, user in enumerate(users)]
    for n, client in enumerate(clients):
        mark = len(client.frames)
        await client.send({"type": "enter", "giveaway": prize["id"], "key": f"e{n}"})
        answer = await client.wait_for("enter_result", after=mark)
        assert (answer["ok"], answer["key"]) == (True, f"e{n}")
    anchor = cluster.token("anchor", "alice")
    status, _ = await cluster.api("POST", f"/api/giveaways/{prize['id']}/end", anchor)
    assert status == 200
    return await clients[0].wait_for("giveaway_ended", timeout_s=10), prize["commitment"]


async def test_at_the_cap_the_frame_lists_every_entrant_and_proves_the_draw(
    capped: Cluster,
) -> None:
    users = ["zoe", "amy", "max"]
    told, commitment = await ended_with(capped, users)
    assert told["entrants"] == sorted(users)
    assert told["entrants_count"] == CAP
    assert "entrants_truncated" not in told
    assert isinstance(told["seed"], str)
    assert isinstance(told["winners"], list)
    assert draw.verify(told["seed"], commitment, sorted(users), told["winners"]) == []


async def test_above_the_cap_the_list_is_left_out_and_marked_truncated(capped: Cluster) -> None:
    users = ["u1", "u2", "u3", "u4"]
    told, _ = await ended_with(capped, users)
    assert "entrants" not in told
    assert (told["entrants_count"], told["entrants_truncated"]) == (CAP + 1, True)
    gid = told["giveaway"]
    status, listed = await capped.api("GET", f"/api/giveaways/{gid}/entrants")
    assert (status, listed["entrants"]) == (200, sorted(users))
