"""Shared Lua code: libraries under store/scripts/lib are put into the scripts that
include them when a script is loaded, and live once in the tree."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from livecommerce.store.lua import include_libraries, load_script

SCRIPTS = Path(__file__).parents[2] / "livecommerce" / "store" / "scripts"
ENGAGEMENT = (SCRIPTS / "lib" / "engagement.lua").read_text(encoding="utf-8")
LIBRARIES = {"one": "local function one() return 1 end\n", "two": "local TWO = 2\n"}


def read(library: str) -> str:
    if library not in LIBRARIES:
        raise FileNotFoundError(library)
    return LIBRARIES[library]


@pytest.mark.parametrize("name", ["chat_post", "likes_add", "sales_reserve"])
def test_scripts_that_count_engagement_carry_the_library_once(name: str) -> None:
    script = load_script(name)

    assert script.source.count(ENGAGEMENT.rstrip("\n")) == 1
    assert script.source.count("local function count_engagement") == 1
    assert "\n--! include" not in script.source
    assert script.sha == hashlib.sha1(script.source.encode()).hexdigest()


def test_count_engagement_is_written_once_in_the_tree() -> None:
    defining = [
        path.relative_to(SCRIPTS).as_posix()
        for path in SCRIPTS.rglob("*.lua")
        if "function count_engagement" in path.read_text(encoding="utf-8")
    ]

    assert defining == ["lib/engagement.lua"]


def test_an_include_line_is_replaced_where_it_stands() -> None:
    source = "local a = KEYS[1]\n--! include one\n--! include two  \nreturn one() + TWO\n"

    expanded = include_libraries("x", source, read)

    assert expanded == (
        "local a = KEYS[1]\nlocal function one() return 1 end\nlocal TWO = 2\nreturn one() + TWO\n"
    )


def test_a_script_without_includes_is_unchanged() -> None:
    source = "-- a comment that mentions --! include one\nreturn 1\n"

    assert include_libraries("x", source, read) == source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("--! include\n", r"x\.lua: '--! include' is not '--! include <name>'"),
        ("--!include one\n", r"is not '--! include <name>'"),
        ("--! import one\n", r"is not '--! include <name>'"),
        ("--! include one\n--! include one\n", r"x\.lua includes 'one' twice"),
    ],
)
def test_a_bad_directive_is_refused_naming_the_script(source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        include_libraries("x", source, read)


def test_a_missing_library_names_the_script_and_the_file() -> None:
    with pytest.raises(FileNotFoundError, match=r"x\.lua includes 'three': no lib/three\.lua"):
        include_libraries("x", "--! include three\n", read)


def test_a_library_includes_nothing() -> None:
    def nested(library: str) -> str:
        return "--! include two\n" if library == "one" else "local TWO = 2\n"

    with pytest.raises(ValueError, match=r"lib/one\.lua: a library includes nothing"):
        include_libraries("x", "--! include one\n", nested)
