"""A plain ``redis://`` URL naming a node of a cluster is refused at start-up with a line
naming ``redis+cluster://``, and fails every store call as unavailable (503), never as a
500 after a write half-landed on the wrong node."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecommerce.app import create_app
from livecommerce.store import client as store_client
from tests.conftest import ClientFactory, TokenFactory, make_settings
from tests.integration.nodes import clean_env, run_cli
from tests.store_cluster import ValkeyCluster


def node_url(cluster: ValkeyCluster) -> str:
    return f"redis://127.0.0.1:{cluster.ports[0]}"


@pytest.mark.slow
def test_serve_refuses_a_cluster_node_url_with_one_line(
    valkey_cluster: ValkeyCluster, tmp_path: Path
) -> None:
    url = node_url(valkey_cluster)
    result = run_cli(
        "serve", "--port", "0", "--data-dir", str(tmp_path), "--redis-url", url,
        env=clean_env(), timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"livecommerce: config error: store.url: {url} is a node of")
    assert f"use redis+cluster://127.0.0.1:{valkey_cluster.ports[0]}" in lines[0]
    assert "listening" not in result.stdout


def test_the_check_masks_the_password() -> None:
    message = store_client._cluster_node_message("rediss://:hunter2-secret@10.0.0.1:6379/0")
    assert "hunter2-secret" not in message
    assert "use rediss+cluster://:***@10.0.0.1:6379/0" in message


async def test_every_store_call_through_a_cluster_node_url_is_unavailable(
    valkey_cluster: ValkeyCluster,
) -> None:
    client = store_client.connect(node_url(valkey_cluster), 2.0, 2.0, 0)
    try:
        with pytest.raises(store_client.STORE_UNAVAILABLE_ERRORS) as failure:
            await client.set("lc:{r:anywhere}:room", "x")
        assert "redis+cluster://" in str(failure.value)
        assert not await store_client.ping(client, 2.0)
    finally:
        await client.aclose()


async def test_a_node_started_on_a_cluster_node_url_answers_503_not_500(
    aiohttp_client: ClientFactory,
    valkey_cluster: ValkeyCluster,
    tmp_path: Path,
    key_prefix: str,
    token: TokenFactory,
) -> None:
    """The store was not answering when the node started (or became a cluster since):
    the check runs when it answers."""
    settings = make_settings(node_url(valkey_cluster), tmp_path, key_prefix)
    client = await aiohttp_client(create_app(settings))
    anchor = {"Authorization": f"Bearer {token('anchor', 'alice')}"}
    for title in ("first", "second", "third"):
        created = await client.post("/api/rooms", json={"title": title}, headers=anchor)
        assert created.status == 503, await created.text()
        assert (await created.json())["error"]["code"] == "store_unavailable"
    assert (await client.get("/readyz")).status == 503
