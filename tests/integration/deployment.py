"""Several real ``livecommerce serve`` processes on one store: config, tokens, requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from livecommerce.auth import Role, issue_token
from tests.integration.nodes import Node, clean_env

SECRET = "deployment-test-secret-0123456789abcdef"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def write_config(path: Path, store_url: str, key_prefix: str, **sections: dict[str, Any]) -> Path:
    """A node config on the shared store; ``sections`` adds or overrides settings."""
    layers: dict[str, dict[str, Any]] = {
        "store": {"url": store_url, "key_prefix": key_prefix},
        "auth": {"secret": SECRET},
        "server": {"node_heartbeat_s": 0.2},
    }
    for section, values in sections.items():
        layers.setdefault(section, {}).update(values)
    text = "".join(
        f"[{section}]\n" + "".join(f"{key} = {_toml(v)}\n" for key, v in values.items()) + "\n"
        for section, values in layers.items()
    )
    path.write_text(text)
    return path


def start_node(nodes: list[Node], data_dir: Path, config: Path, **env: str) -> Node:
    """A node process with this config, appended to ``nodes`` (which the test closes)."""
    node = Node(data_dir, "--config", str(config), env=clean_env(**env))
    nodes.append(node)
    return node.wait_ready()


def token(role: Role | str, user: str) -> str:
    return issue_token(SECRET, Role(role), user, ttl_s=600)


def bearer(role: Role | str, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, user)}"}


async def api(
    http: aiohttp.ClientSession,
    node: Node,
    method: str,
    path: str,
    who: str | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {who}"} if who else {}
    async with http.request(method, node.url + path, json=body, headers=headers) as response:
        return response.status, await response.json()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 20.0
) -> None:
    """Wait until ``check()`` is true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
