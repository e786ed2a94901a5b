"""The README's two commands stay true, CI runs the test command verbatim, and the README
names every script."""

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


def layout_entry(folder: str) -> str:
    """The text of ``folder``'s entry in the README's layout block."""
    layout = re.search(r"## Layout\n\n```\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert layout is not None
    entry = re.search(rf"^{re.escape(folder)} +(.+?)(?=^\S|\Z)", layout.group(1), re.M | re.S)
    assert entry is not None, folder
    return entry.group(1)


def test_the_layout_names_every_script_and_no_other() -> None:
    files = {
        p.name for p in (ROOT / "scripts").iterdir() if p.is_file() and not p.name.startswith(".")
    }
    named = set(re.findall(r"[\w-]+\.(?:py|sh)", layout_entry("scripts/")))
    assert named == files


def test_the_development_section_says_what_each_script_is_for() -> None:
    development = (ROOT / "README.md").read_text().partition("## Development")[2]
    for path in (ROOT / "scripts").iterdir():
        if path.is_file() and not path.name.startswith("."):
            assert f"`scripts/{path.name}`" in development, path.name
