"""``livecommerce completion bash|zsh``: a shell completion script made from the CLI's own
argparse parser, so every command, option and choice it knows is completed, and nothing
else (no dependency, nothing to keep in step by hand).

The script completes subcommands and options at each level, the choices of an option
that has them (``--role``), and leaves file names to the shell after an option that
takes another value (``--config FILE``). zsh runs the bash script through
``bashcompinit``.

This module is a leaf: it imports nothing of the package.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

SHELLS = ("bash", "zsh")


@dataclass
class Level:
    """One command level: the words that may follow, the options' choices, the options
    that take a free value."""

    words: list[str] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)
    valued: list[str] = field(default_factory=list)


def levels(parser: argparse.ArgumentParser, path: str = "") -> dict[str, Level]:
    """Every command level of ``parser`` by its path (``""``, ``/config``, ``/config/check``)."""
    level = Level()
    found = {path: level}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                level.words.append(name)
                found.update(levels(child, f"{path}/{name}"))
        elif not action.option_strings:
            level.words.extend(str(choice) for choice in action.choices or ())
        else:
            level.words.extend(action.option_strings)
            if action.choices is not None:
                for option in action.option_strings:
                    level.choices[option] = [str(choice) for choice in action.choices]
            elif action.nargs != 0:
                level.valued.extend(action.option_strings)
    return found


def _words(items: list[str]) -> str:
    return " ".join(items)


def bash_script(parser: argparse.ArgumentParser) -> str:
    """A bash completion function for ``parser.prog``, registered with ``complete``."""
    prog = parser.prog
    name = "_" + "".join(c if c.isalnum() else "_" for c in prog)
    found = levels(parser)
    paths = sorted(p for p in found if p)
    lines = [
        f"# {prog} completion for bash (made by `{prog} completion bash`).",
        f"{name}() {{",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '  local path="" words="" i',
        "  for ((i = 1; i < COMP_CWORD; i++)); do",
        '    case "$path/${COMP_WORDS[i]}" in',
        f'      {"|".join(paths)}) path="$path/${{COMP_WORDS[i]}}" ;;',
        "    esac",
        "  done",
        '  case "$path:$prev" in',
    ]
    for path, level in sorted(found.items()):
        for option, values in sorted(level.choices.items()):
            lines.append(
                f'    {path}:{option}) COMPREPLY=($(compgen -W "{_words(values)}" -- "$cur")); '
                "return ;;"
            )
        if level.valued:
            patterns = "|".join(f"{path}:{option}" for option in sorted(level.valued))
            lines.append(f"    {patterns}) COMPREPLY=(); return ;;")
    lines += ["  esac", '  case "$path" in']
    for path, level in sorted(found.items()):
        lines.append(f'    "{path}") words="{_words(level.words)}" ;;')
    lines += [
        "  esac",
        '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        f"complete -o default -F {name} {prog}",
        "",
    ]
    return "\n".join(lines)


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser)
    return bash_script(parser)
