"""The clients' environment variables never collide with the server's settings: the
server ignores ``LIVECOMMERCE_*`` names of no section, and the clients use prefixes
(``LIVECOMMERCE_MOD_``, ``LIVECOMMERCE_ANCHOR_``) that can never be a section."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import jwt
import pytest
from aiohttp.test_utils import TestClient

from clients.anchor import cli as anchor_cli
from clients.moderator import cli as mod_cli
from livecommerce.config import (
    ENV_WORDS_OF_OTHERS,
    ConfigError,
    build_settings,
    load_settings,
    setting_names,
)
from tests.conftest import TokenFactory
from tests.integration.nodes import Node, clean_env, run_cli

CLIENT_ENV = {
    "LIVECOMMERCE_TOKEN": "an old moderator token",
    "LIVECOMMERCE_SERVER": "http://127.0.0.1:8080",
    "LIVECOMMERCE_MOD_TOKEN": "a moderator token",
    "LIVECOMMERCE_MOD_SERVER": "http://127.0.0.1:8080",
    "LIVECOMMERCE_ANCHOR_TOKEN": "an anchor token",
    "LIVECOMMERCE_ANCHOR_SERVER": "http://127.0.0.1:8080",
    "LIVECOMMERCE_TEST_STORE": "standalone",
}


def test_client_variables_do_not_change_or_break_the_settings() -> None:
    assert load_settings(None, environ=CLIENT_ENV) == build_settings([])


def test_a_typo_in_a_known_section_is_still_an_error() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={**CLIENT_ENV, "LIVECOMMERCE_SERVER_PROT": "9000"})
    assert str(error.value) == "server.prot: unknown setting (from env LIVECOMMERCE_SERVER_PROT)"


def test_settings_and_client_variables_still_mix() -> None:
    settings = load_settings(None, environ={**CLIENT_ENV, "LIVECOMMERCE_SERVER_PORT": "9000"})
    assert settings.server.port == 9000


def test_the_clients_words_never_name_a_section() -> None:
    sections = {name.split(".")[0] for name in setting_names()}
    assert {"mod", "anchor"} <= ENV_WORDS_OF_OTHERS
    assert sections.isdisjoint(ENV_WORDS_OF_OTHERS)
    for variable in (
        mod_cli.TOKEN_ENV,
        mod_cli.SERVER_ENV,
        anchor_cli.TOKEN_ENV,
        anchor_cli.SERVER_ENV,
    ):
        word = variable.removeprefix("LIVECOMMERCE_").split("_")[0].lower()
        assert word in ENV_WORDS_OF_OTHERS, variable


@pytest.mark.slow
def test_token_and_serve_work_with_the_client_variables_set(tmp_path: Path) -> None:
    env = clean_env(**CLIENT_ENV)
    result = run_cli(
        "token", "--role", "viewer", "--user", "v", "--data-dir", str(tmp_path), env=env
    )
    assert result.returncode == 0, result.stderr
    secret = (tmp_path / "auth_secret").read_text().strip()
    assert jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])["sub"] == "v"

    node = Node(tmp_path, env=env)
    try:
        node.wait_ready()
        assert node.request("GET", "/readyz")[0] == 200
        assert node.stop() == 0
    finally:
        node.close()


async def test_the_moderator_client_reads_its_own_variables(
    client: TestClient, token: TokenFactory
) -> None:
    anchor = {"Authorization": f"Bearer {token('anchor', 'alice')}"}
    room = await (await client.post("/api/rooms", json={"title": "t"}, headers=anchor)).json()
    env = clean_env(
        LIVECOMMERCE_MOD_SERVER=str(client.make_url("")).rstrip("/"),
        LIVECOMMERCE_MOD_TOKEN=token("moderator", "mia"),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients.moderator.cli", room["id"], "slow-mode", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().startswith("ok: ")
    assert "mia (moderator)" in out.decode()
