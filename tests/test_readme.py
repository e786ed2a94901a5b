"""The README's two commands stay true and CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_a_serve_command_and_a_test_command() -> None:
    serve, tests = readme_commands()
    assert serve.endswith("livecommerce serve --demo")
    assert "pip install ." in serve
    assert tests.endswith("pytest")
    assert "pip install -c constraints/test.txt '.[test]'" in tests


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci
