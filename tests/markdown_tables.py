"""The pipe tables of a Markdown file, as the tests of the docs read them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# A cell boundary is a pipe not escaped with a backslash (GFM: `\|` inside a cell).
BOUNDARY = re.compile(r"(?<!\\)\|")
SEPARATOR = re.compile(r"\|(\s*:?-+:?\s*\|)+")


@dataclass(frozen=True)
class MarkdownTable:
    """A block of consecutive lines starting with ``|``, outside code fences."""

    path: Path
    line: int  # 1-based number of its first line
    lines: tuple[str, ...]

    @property
    def has_header(self) -> bool:
        return len(self.lines) >= 2 and SEPARATOR.fullmatch(self.lines[1].strip()) is not None

    @property
    def header(self) -> tuple[str, ...]:
        return cells(self.lines[0])

    @property
    def rows(self) -> list[tuple[str, ...]]:
        return [cells(line) for line in self.lines[2:]]

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line} ({' | '.join(cells(self.lines[0]))})"


def cells(line: str) -> tuple[str, ...]:
    parts = BOUNDARY.split(line.strip())
    return tuple(part.strip().replace("\\|", "|") for part in parts[1:-1])


def tables(path: Path) -> list[MarkdownTable]:
    found: list[MarkdownTable] = []
    block: list[str] = []
    start = 0
    in_fence = False
    for number, line in enumerate([*path.read_text().splitlines(), ""], start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("|"):
            if not block:
                start = number
            block.append(line)
            continue
        if block:
            found.append(MarkdownTable(path, start, tuple(block)))
            block = []
    return found


def table_under(path: Path, header: tuple[str, ...], after: str | None = None) -> MarkdownTable:
    """The first table of ``path`` with this header (after the line ``after``, if given)."""
    skip_to = 0
    if after is not None:
        skip_to = path.read_text().splitlines().index(after) + 1
    for table in tables(path):
        if table.line > skip_to and table.header == header:
            return table
    raise AssertionError(f"{path.name} has no table {header} after {after!r}")


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)
