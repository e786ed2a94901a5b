"""What can be checked of the deploy files without Docker or systemd: the compose file
parses, its nodes' environments load as settings (every variable names a setting, every
value is valid), their UDP ranges are published 1:1 and apart; the Dockerfile builds from
files that exist, runs as a non-root user, exposes the range it configures, and checks
/readyz; the systemd template names only settings and real commands."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from livecommerce.cli import _parser
from livecommerce.config import PortRange, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def substituted(text: str) -> str:
    """Compose's interpolation with every variable unset: ``${X:-default}`` → default;
    a variable without a default would stop ``docker compose up``."""

    def default(match: re.Match[str]) -> str:
        assert match.group(2) is not None, f"${{{match.group(1)}}} has no default"
        return match.group(2)

    return VARIABLE.sub(default, text).replace("$$", "$")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(substituted((DEPLOY / "compose.yaml").read_text()))
    assert isinstance(loaded, dict)
    return loaded


def nodes() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image") == "livecommerce:local"
    }


def node_settings(service: dict[str, Any]) -> Settings:
    environment = {key: str(value) for key, value in service["environment"].items()}
    assert all(key.startswith("LIVECOMMERCE_") for key in environment)
    return load_settings(environ=environment)


def test_compose_runs_two_nodes_a_valkey_and_coturn() -> None:
    services = compose()["services"]
    assert len(nodes()) == 2
    assert {"valkey", "coturn"} <= set(services)
    for service in nodes().values():
        assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert (DEPLOY / service["build"]["context"] / "Dockerfile").is_file()
        assert service["depends_on"]["valkey"]["condition"] == "service_healthy"


def test_every_node_environment_loads_as_settings() -> None:
    for name, service in nodes().items():
        settings = node_settings(service)
        assert settings.store.url.startswith("redis://"), name
        assert "@valkey:6379" in settings.store.url
        assert settings.server.host == "0.0.0.0"
        assert settings.server.public_url == f"http://{name}:8080"
        assert len(settings.auth.secret) >= 32
        assert settings.media.ice_servers[0].urls[0].startswith("turn:")
        assert settings.media.public_ip


def test_every_node_command_is_a_serve_the_cli_accepts() -> None:
    for service in nodes().values():
        parsed = _parser().parse_args(service["command"])
        assert parsed.command == "serve"


def test_udp_ranges_are_published_one_to_one_and_do_not_overlap() -> None:
    ranges: list[PortRange] = []
    for name, service in nodes().items():
        udp = node_settings(service).media.udp_ports
        assert udp is not None, name
        published = f"{udp.low}-{udp.high}:{udp.low}-{udp.high}/udp"
        assert published in service["ports"], name
        assert "8080" in " ".join(service["ports"])
        ranges.append(udp)
    first, second = sorted(ranges)
    assert first.high < second.low


def test_the_valkey_keeps_every_write() -> None:
    command = compose()["services"]["valkey"]["command"]
    pairs = dict(zip(command[1::2], command[2::2], strict=False))
    assert pairs["--appendonly"] == "yes"
    assert pairs["--appendfsync"] == "always"
    assert pairs["--maxmemory-policy"] == "noeviction"
    password = pairs["--requirepass"]
    for service in nodes().values():
        assert f":{password}@" in service["environment"]["LIVECOMMERCE_STORE_URL"]


def test_turn_credentials_match_what_the_nodes_announce_and_the_nodes_reach_it() -> None:
    flags = compose()["services"]["coturn"]["command"]
    user = next(flag.split("=", 1)[1] for flag in flags if flag.startswith("--user="))
    assert "3478:3478/udp" in compose()["services"]["coturn"]["ports"]
    for service in nodes().values():
        server = node_settings(service).media.ice_servers[0]
        assert f"{server.username}:{server.credential}" == user
        host = server.urls[0].removeprefix("turn:").rsplit(":", 1)[0]
        assert f"{host}:host-gateway" in service["extra_hosts"]


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the final Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    last_from = max(i for i, (instruction, _) in enumerate(steps) if instruction == "FROM")
    return steps[last_from:]


def test_the_image_is_slim_python_and_runs_as_a_user() -> None:
    stage = final_stage()
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", stage[0][1])
    users = [args for instruction, args in stage if instruction == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    entry = next(args for instruction, args in stage if instruction == "ENTRYPOINT")
    assert json.loads(entry) == ["livecommerce"]
    assert 'livecommerce = "livecommerce.cli:main"' in (ROOT / "pyproject.toml").read_text()
    command = next(args for instruction, args in stage if instruction == "CMD")
    assert _parser().parse_args(json.loads(command)).command == "serve"


def test_the_image_environment_loads_and_its_udp_range_is_exposed() -> None:
    stage = final_stage()
    environment: dict[str, str] = {}
    for instruction, args in stage:
        if instruction == "ENV":
            environment.update(dict(pair.split("=", 1) for pair in shlex.split(args)))
    ours = {k: v for k, v in environment.items() if k.startswith("LIVECOMMERCE_")}
    settings = load_settings(environ=ours)
    udp = settings.media.udp_ports
    assert udp is not None
    exposed = " ".join(args for instruction, args in stage if instruction == "EXPOSE").split()
    assert f"{udp.low}-{udp.high}/udp" in exposed
    assert f"{settings.server.port}/tcp" in exposed
    health = next(args for instruction, args in stage if instruction == "HEALTHCHECK")
    assert "/readyz" in health


def test_the_build_copies_files_that_exist_and_are_not_ignored() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    kept = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    for instruction, args in dockerfile():
        if instruction != "COPY" or args.startswith("--from"):
            continue
        *sources, _ = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") in kept, source


def unit() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (DEPLOY / "livecommerce@.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            entries.setdefault(key, []).append(value)
    return entries


def test_the_systemd_template_names_settings_and_a_serve_command() -> None:
    entries = unit()
    environment = dict(value.split("=", 1) for value in entries["Environment"])
    environment = {k: v.replace("%i", "8081") for k, v in environment.items()}
    settings = load_settings(environ=environment)
    assert settings.server.port == 8081
    assert settings.store.data_dir == "/var/lib/livecommerce/8081"
    (exec_start,) = entries["ExecStart"]
    program, *arguments = shlex.split(exec_start)
    assert program.endswith("/livecommerce")
    assert _parser().parse_args(arguments).command == "serve"
    assert entries["KillSignal"] == ["SIGTERM"]
    assert entries["User"] != ["root"]
    assert "/etc/livecommerce/%i.env" in entries["EnvironmentFile"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_finds_nothing_wrong_in_the_template(tmp_path: Path) -> None:
    # An instance of it, running this environment's livecommerce (the one in the unit is
    # where docs/deploy.md installs it).
    program = Path(sys.executable).parent / "livecommerce"
    text = (DEPLOY / "livecommerce@.service").read_text()
    unit = tmp_path / "livecommerce@8081.service"
    unit.write_text(text.replace("/opt/livecommerce/bin/livecommerce", str(program)))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize(
    "path", ["Dockerfile", "deploy/compose.yaml", "deploy/livecommerce@.service"]
)
def test_docs_deploy_walks_through_each_file(path: str) -> None:
    assert f"`{path}`" in (ROOT / "docs" / "deploy.md").read_text()
