"""Reports cannot be used to push a message out of the chat alone: one report per user and
message however many sockets and nodes, a per-user budget across nodes, and garbage
report frames answered with an error frame, the socket kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from livecommerce.store.embedded import EmbeddedValkey
from tests.conftest import TokenFactory
from tests.integration.cluster import Cluster, ServerFactory, start_cluster
from tests.integration.test_review_reports import post, report


@pytest.fixture
async def strict(
    aiohttp_server: ServerFactory,
    valkey: EmbeddedValkey,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> AsyncIterator[Cluster]:
    sections = {"moderation": {"reports_per_window": 4, "report_threshold": 2}}
    async for value in start_cluster(
        aiohttp_server, valkey, tmp_path, key_prefix, token, sections=sections
    ):
        yield value


async def test_one_user_on_many_sockets_counts_once(strict: Cluster) -> None:
    room = await strict.room()
    author = await strict.join(room, "ann")
    sockets = [await strict.join(room, "mob", node=n % 2) for n in range(3)]
    message = await post(author, "fine words", sockets[0])
    answers = [await report(s, message["id"]) for s in sockets]
    assert [a["duplicate"] for a in answers] == [False, True, True]
    assert author.of_type("chat_held") == []
    for client in (author, *sockets):
        await client.close()


async def test_the_report_budget_holds_across_nodes(strict: Cluster) -> None:
    room = await strict.room()
    author = await strict.join(room, "ann")
    reporter = [await strict.join(room, "rex", node=n) for n in (0, 1)]
    messages = [await post(author, f"line {n}", reporter[0]) for n in range(5)]
    answers = [await report(reporter[n % 2], m["id"]) for n, m in enumerate(messages)]
    assert [a["type"] for a in answers] == ["report_received"] * 4 + ["error"]
    assert answers[-1]["code"] == "rate_limited"
    assert answers[-1]["until"] > 0
    for client in (author, *reporter):
        await client.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "report"},
        {"type": "report", "message": 12},
        {"type": "report", "message": ""},
        {"type": "report", "message": "1-1", "reason": 5},
        {"type": "report", "message": "1-1", "reason": "x" * 201},
        {"type": "report", "message": "1-1", "reason": "a\x00b"},
        {"type": "report", "message": "a\u202eb"},
    ],
)
async def test_garbage_report_frames_get_an_error_and_the_socket_stays(
    strict: Cluster, frame: dict[str, object]
) -> None:
    room = await strict.room()
    client = await strict.join(room, "vic")
    await client.send(frame)
    error = await client.wait_for("error")
    assert error["code"] in ("missing_field", "invalid_field")
    await client.sync()
    await client.close()
