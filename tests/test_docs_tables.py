"""The tables of the docs are whole tables, name each thing once, and api.md's error table
is the error catalogue's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livecommerce.errors import ErrorCode
from livecommerce.web.openapi_schemas import CHANNEL_ONLY as CHANNEL_ONLY_CODES
from tests.markdown_tables import code_spans, table_under, tables

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
API = ROOT / "docs" / "api.md"
# Tables whose first column groups rows (one row per code of a status, per frame type of
# a direction): there a row is named by its first two cells.
GROUPING_HEADERS = {("status", "code"), ("direction", "type")}
# Codes only the room channel answers (error frames and close codes, docs/channel.md): the
# same list the OpenAPI document leaves out.
CHANNEL_ONLY = {code.name for code in CHANNEL_ONLY_CODES}
CODE_NAME = re.compile(r"[a-z][a-z_]*")

each_doc = pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])


@each_doc
def test_every_table_has_a_header_row_and_a_separator(path: Path) -> None:
    """A row cut off from its table (by a blank line or a paragraph) renders as text."""
    assert [str(t) for t in tables(path) if not t.has_header] == []


@each_doc
def test_every_row_has_the_headers_number_of_cells(path: Path) -> None:
    for table in tables(path):
        wrong = [row for row in table.rows if len(row) != len(table.header)]
        assert wrong == [], str(table)


@each_doc
def test_no_table_has_two_rows_about_the_same_thing(path: Path) -> None:
    for table in tables(path):
        if not table.has_header:
            continue
        width = 2 if table.header[:2] in GROUPING_HEADERS else 1
        names = [row[:width] for row in table.rows]
        assert sorted({n for n in names if names.count(n) > 1}) == [], str(table)


def api_error_table() -> dict[int, list[str]]:
    """api.md's error table: status → the codes named in its row."""
    table = table_under(API, ("status", "codes"))
    statuses = [int(status) for status, _ in table.rows]
    assert len(statuses) == len(set(statuses)), f"a status with two rows: {statuses}"
    return {
        int(status): [span for span in code_spans(text) if CODE_NAME.fullmatch(span)]
        for status, text in table.rows
    }


def test_the_api_error_table_gives_each_code_its_catalogue_status() -> None:
    for status, codes in api_error_table().items():
        assert codes, status
        for code in codes:
            assert code in ErrorCode.__members__, f"{code} ({status}) is not in errors.py"
            assert ErrorCode[code].spec.status == status, code


def test_every_error_an_http_client_can_get_is_in_the_api_error_table() -> None:
    named = {code for codes in api_error_table().values() for code in codes}
    assert len(named) == sum(len(codes) for codes in api_error_table().values())
    assert set(ErrorCode.__members__) - named == CHANNEL_ONLY


def test_the_scripts_table_of_store_md_names_every_lua_script() -> None:
    table = table_under(ROOT / "docs" / "store.md", ("script", "does"))
    named = {span for script, _ in table.rows for span in code_spans(script)}
    scripts = {p.name for p in (ROOT / "livecommerce" / "store" / "scripts").glob("*_*.lua")}
    assert named == scripts
