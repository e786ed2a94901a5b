"""``livecommerce completion bash|zsh``: the script, run in a real bash, completes the
CLI's commands, options and choices at each level and leaves values to file completion."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from livecommerce.cli import _parser
from livecommerce.completion import script

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="no bash")


def complete(line: str) -> list[str]:
    """What the script offers for ``line`` (the cursor at its end)."""
    words = line.split(" ")
    program = (
        script(_parser(), "bash")
        + f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        + '_livecommerce; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    assert BASH is not None
    done = subprocess.run([BASH, "-c", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [word for word in done.stdout.splitlines() if word]


def test_commands_then_their_options_and_actions() -> None:
    assert {"serve", "token", "config", "hooks", "completion", "--version"} <= set(
        complete("livecommerce ")
    )
    assert complete("livecommerce se") == ["serve"]
    assert complete("livecommerce serve --re") == ["--redis-url"]
    assert set(complete("livecommerce serve --demo --")) >= {"--config", "--port", "--demo"}
    assert complete("livecommerce config ") == ["-h", "--help", "check", "defaults"]
    assert complete("livecommerce completion ") == ["-h", "--help", "bash", "zsh"]


def test_choices_of_an_option_and_files_for_other_values() -> None:
    assert complete("livecommerce token --user bob --role a") == ["anchor", "admin"]
    # A value that is not a choice: nothing offered, the shell completes file names.
    assert complete("livecommerce serve --config ") == []
    assert complete("livecommerce token --user ") == []


def test_zsh_loads_the_bash_function_through_bashcompinit() -> None:
    zsh = script(_parser(), "zsh")
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit\n")
    assert "complete -o default -F _livecommerce livecommerce" in zsh
