"""``livecommerce --version``, ``config check [FILE]`` and ``config defaults`` as real processes."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

import livecommerce
from tests.integration.nodes import clean_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_the_version_is_the_one_in_the_package_and_its_metadata() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"livecommerce {livecommerce.__version__}\n"
    assert importlib.metadata.version("livecommerce") == livecommerce.__version__


def test_config_check_says_ok_for_the_defaults_and_for_a_good_file(tmp_path: Path) -> None:
    assert (run_cli("config", "check").returncode, run_cli("config", "check").stdout) == (0, "ok\n")
    good = tmp_path / "node.toml"
    good.write_text('[server]\nport = 9000\n\n[log]\nformat = "json"\n')
    result = run_cli("config", "check", str(good))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")


def test_config_check_names_the_bad_setting_in_one_line_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "node.toml"
    bad.write_text('[server]\nport = "eighty"\n')
    result = run_cli("config", "check", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"livecommerce: config error: server.port: must be an integer, got 'eighty' (from {bad})\n"
    )
    unknown = tmp_path / "typo.toml"
    unknown.write_text("[server]\nprot = 1\n")
    result = run_cli("config", "check", str(unknown))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "server.prot: unknown setting" in result.stderr


def test_config_check_reads_the_environment_as_serve_does(tmp_path: Path) -> None:
    env = clean_env(LIVECOMMERCE_SERVER_PORT="not-a-port")
    result = run_cli("config", "check", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("livecommerce: config error: server.port: ")
    assert "LIVECOMMERCE_SERVER_PORT" in result.stderr
    assert run_cli("config", "check", env=clean_env(LIVECOMMERCE_SERVER_PORT="9000")).stdout == (
        "ok\n"
    )


def test_config_defaults_prints_the_shipped_default_toml() -> None:
    result = run_cli("config", "defaults")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "config" / "default.toml").read_text(encoding="utf-8")
