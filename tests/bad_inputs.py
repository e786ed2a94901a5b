"""Captured and hand-made bad inputs, kept as data files in tests/data/ (STYLE rule 6).

A file holds entries of two lines: a header of whitespace-separated fields (the last,
``what``, may hold spaces) and the input itself, as it is or as ``hex:`` and its bytes.
Lines starting with ``#`` and blank lines are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BadInput:
    """One input: the header's fields before ``what``, ``what``, and the data."""

    fields: tuple[str, ...]
    what: str
    data: bytes | str

    def __str__(self) -> str:
        return self.what


def load(name: str, fields: int) -> list[BadInput]:
    """The entries of ``tests/data/NAME``, each header with ``fields`` fields before ``what``."""
    lines = [
        line
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) % 2 == 0, f"{name}: a header without its input"
    entries = []
    for header, raw in zip(lines[::2], lines[1::2], strict=True):
        parts = header.split(maxsplit=fields)
        assert len(parts) == fields + 1, f"{name}: {header!r} lacks fields"
        data: bytes | str = bytes.fromhex(raw[4:]) if raw.startswith("hex:") else raw
        entries.append(BadInput(tuple(parts[:fields]), parts[fields], data))
    return entries


@dataclass(frozen=True)
class BadFrame:
    """A channel frame: the socket's wire format, the data, the error code it gets."""

    wire: str
    data: bytes | str
    code: str
    what: str


def frames(name: str) -> list[BadFrame]:
    """``tests/data/channel/NAME``: headers ``wire code what``."""
    return [
        BadFrame(wire=entry.fields[0], data=entry.data, code=entry.fields[1], what=entry.what)
        for entry in load(f"channel/{name}", fields=2)
    ]


@dataclass(frozen=True)
class BadBody:
    """An HTTP body: its Content-Type, the bytes, and a word its invalid_json message
    holds (None: not checked)."""

    content_type: str
    body: bytes
    message: str | None
    what: str


def bodies(name: str) -> list[BadBody]:
    """``tests/data/http/NAME``: headers ``content-type message what``."""
    return [
        BadBody(
            content_type=entry.fields[0],
            body=entry.data.encode() if isinstance(entry.data, str) else entry.data,
            message=None if entry.fields[1] == "-" else entry.fields[1],
            what=entry.what,
        )
        for entry in load(f"http/{name}", fields=2)
    ]
