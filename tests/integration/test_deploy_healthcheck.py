"""The health checks of the Dockerfile and deploy/compose.yaml, run as written against a
real node: ready → exit 0; nothing listening → not 0."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import yaml

from livecommerce.app import create_app
from livecommerce.config import Settings
from tests.integration.cluster import ServerFactory

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_check() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("HEALTHCHECK"))
    return list(json.loads(line.split(" CMD ", 1)[1]))


def compose_check() -> list[str]:
    text = (ROOT / "deploy" / "compose.yaml").read_text()
    test = yaml.safe_load(text)["x-node"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    return list(test[1:])


async def exit_code(command: list[str], port: int) -> int:
    assert command[0] == "python"
    code = command[-1].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    env = {**os.environ, "LIVECOMMERCE_SERVER_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:-1], code, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(process.wait(), 30)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_health_checks_pass_on_a_ready_node_and_fail_without_one(
    aiohttp_server: ServerFactory, settings: Settings
) -> None:
    server = await aiohttp_server(create_app(settings))
    for command in (dockerfile_check(), compose_check()):
        assert await exit_code(command, server.port) == 0
        assert await exit_code(command, closed_port()) != 0
