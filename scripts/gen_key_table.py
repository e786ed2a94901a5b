"""Write the key table of docs/store.md from the key schema in livecommerce/store/keys.py.

    python scripts/gen_key_table.py          # rewrite the table in docs/store.md
    python scripts/gen_key_table.py --check  # exit 1 (and say so) when it is out of date

The schema's docstring is the source: its key table (``| key | type | contents |``, one
row per key, a row whose first cell is blank continuing the row above) and its retention
table (``| family | retention |``, one row per key) become one Markdown table, with a
retention column, between the two marker comments in docs/store.md. The
docstring is read with ``ast``, so the script needs no installed package.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS_MODULE = ROOT / "livecommerce" / "store" / "keys.py"
STORE_DOC = ROOT / "docs" / "store.md"
BEGIN = (
    "<!-- key table: generated from livecommerce/store/keys.py by scripts/gen_key_table.py;"
    " edit the docstring there, then run the script -->"
)
END = "<!-- end of the generated key table -->"
# The docstring writes the configured prefix as P; the docs show the production one.
DOC_PREFIX = "P"
PRODUCTION_PREFIX = "lc:"
# A cell boundary is a pipe with a space on each side (or a line's end): pipes inside
# a cell ("BYTES:USER|KEY") have none.
CELL_BOUNDARY = re.compile(r"(?<= )\|(?= )")
RST_LITERAL = re.compile(r"``(.+?)``")


@dataclass(frozen=True)
class Table:
    """One pipe table of the docstring: its header cells and its rows, continuations merged."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def cells(line: str) -> list[str]:
    inner = line.strip()
    if not (inner.startswith("|") and inner.endswith("|")):
        raise ValueError(f"not a table row: {line!r}")
    return [cell.strip() for cell in CELL_BOUNDARY.split(inner[1:-1])]


def parse_tables(text: str) -> list[Table]:
    """Every pipe table of ``text``; a row with a blank first cell continues the one above."""
    tables: list[Table] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            block.append(line)
            continue
        if block:
            tables.append(_table(block))
            block = []
    return tables


def _table(lines: list[str]) -> Table:
    header = cells(lines[0])
    if not set(lines[1].strip()) <= set("|-: "):
        raise ValueError(f"the table under {lines[0]!r} has no separator line")
    rows: list[list[str]] = []
    for line in lines[2:]:
        row = cells(line)
        if len(row) != len(header):
            raise ValueError(f"{len(row)} cells, not {len(header)}: {line!r}")
        if row[0]:
            rows.append(row)
        elif not rows:
            raise ValueError(f"a continuation line before any row: {line!r}")
        else:
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], row, strict=True)]
    return Table(tuple(header), tuple(tuple(row) for row in rows))


def schema_tables(source: Path = KEYS_MODULE) -> dict[str, Table]:
    """The tables of the schema module's docstring, by their first header cell."""
    docstring = ast.get_docstring(ast.parse(source.read_text()))
    if docstring is None:
        raise ValueError(f"{source} has no docstring")
    return {table.header[0]: table for table in parse_tables(docstring)}


def production_key(cell: str) -> str:
    """``P{r:ROOM}:room`` (a docstring cell) → ``lc:{r:ROOM}:room``."""
    key = RST_LITERAL.sub(r"\1", cell)
    if not key.startswith(DOC_PREFIX):
        raise ValueError(f"a key that does not start with the prefix {DOC_PREFIX!r}: {cell!r}")
    return PRODUCTION_PREFIX + key.removeprefix(DOC_PREFIX)


def markdown_cell(text: str) -> str:
    return RST_LITERAL.sub(r"`\1`", text).replace("|", "\\|")


def retention_of(keys: Table, retention: Table) -> dict[str, str]:
    """Each key's retention; ``ValueError`` unless both tables name the same keys."""
    bounds = {family: bound for family, bound in retention.rows}
    named = [row[0] for row in keys.rows]
    if sorted(bounds) != sorted(named):
        missing = sorted(set(named) - set(bounds))
        extra = sorted(set(bounds) - set(named))
        raise ValueError(f"the retention table lacks {missing} and has extra {extra}")
    return bounds


def render(keys: Table, retention: Table) -> str:
    """The Markdown table of ``keys`` (the schema's key table) with each key's retention."""
    bounds = retention_of(keys, retention)
    header = [*keys.header, *retention.header[1:]]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for key, *rest in keys.rows:
        row = [f"`{production_key(key)}`", *rest, bounds[key]]
        lines.append("| " + " | ".join(markdown_cell(cell) for cell in row) + " |")
    return "\n".join(lines)


def with_table(document: str, table: str) -> str:
    """``document`` with the text between the markers replaced by ``table``."""
    start = document.find(BEGIN)
    end = document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{STORE_DOC.name} lacks the markers {BEGIN!r} … {END!r}")
    return document[: start + len(BEGIN)] + "\n" + table + "\n" + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    options = parser.parse_args(argv)
    current = STORE_DOC.read_text()
    tables = schema_tables()
    wanted = with_table(current, render(tables["key"], tables["family"]))
    if options.check:
        if wanted != current:
            print(f"{STORE_DOC} is out of date: run python scripts/gen_key_table.py")
            return 1
        return 0
    if wanted != current:
        STORE_DOC.write_text(wanted)
        print(f"rewrote the key table of {STORE_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
