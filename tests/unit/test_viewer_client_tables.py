"""The web client (clients/viewer/js) keeps one copy of what the server defines: close
codes come from the error catalogue, room ids are encoded in every URL, and each sentence
the page shows is written once."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from livecommerce.channel.export import VIEWER_ERRORS, viewer_errors_js
from livecommerce.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "clients/viewer/js"
GENERATED = {JS / "errors.js"}
# Characters after which a ``/`` starts a regular expression literal, not a division.
REGEX_BEFORE = set("(,=:[!&|?{};")


def sources() -> dict[str, str]:
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(JS.glob("*.js"))
        if path not in GENERATED
    }


def string_literals(source: str) -> list[str]:
    """The string and template literals of a JS source, templates with ``${…}`` parts
    written ``${}`` (comments and regular expression literals skipped)."""
    found: list[str] = []
    i, n = 0, len(source)
    last = ""  # the last significant character of code
    while i < n:
        char = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif char == "/" and last in REGEX_BEFORE:
            i = _skip_regex(source, i)
            last = "/"
        elif char in "'\"`":
            text, i = _read_string(source, i, found)
            found.append(text)
            last = char
        else:
            if not char.isspace():
                last = char
            i += 1
    return found


def _skip_regex(source: str, i: int) -> int:
    i += 1
    in_class = False
    while source[i] != "/" or in_class:
        if source[i] == "\\":
            i += 1
        elif source[i] == "[":
            in_class = True
        elif source[i] == "]":
            in_class = False
        i += 1
    return i + 1


def _read_string(source: str, i: int, found: list[str]) -> tuple[str, int]:
    """The literal starting at ``i`` and the index after it; literals inside its
    ``${…}`` parts go to ``found``."""
    quote, i, text = source[i], i + 1, []
    while source[i] != quote:
        if source[i] == "\\":
            text.append(source[i : i + 2])
            i += 2
        elif quote == "`" and source.startswith("${", i):
            depth, i = 1, i + 2
            while depth:
                if source[i] in "'\"`":
                    inner, i = _read_string(source, i, found)
                    found.append(inner)
                    continue
                depth += {"{": 1, "}": -1}.get(source[i], 0)
                i += 1
            text.append("${}")
        else:
            text.append(source[i])
            i += 1
    return "".join(text), i + 1


def test_the_close_code_table_is_the_error_catalogues() -> None:
    assert (ROOT / VIEWER_ERRORS).read_text(encoding="utf-8") == viewer_errors_js(), (
        "clients/viewer/js/errors.js differs from livecommerce/errors.py: run "
        "`python -m livecommerce.channel.export`"
    )


def test_no_close_code_is_written_as_a_number_in_the_client() -> None:
    catalogue = {code.spec.close_code for code in ErrorCode}
    for name, source in sources().items():
        numbers = {int(n) for n in re.findall(r"\b(\d{4})\b", source)}
        assert numbers & catalogue == set(), f"{name} hard-codes a close code"
        for used in re.findall(r"CLOSE_CODES\.(\w+)", source):
            assert used in ErrorCode.__members__, f"{name}: no error code {used!r}"


def test_every_url_of_the_room_encodes_its_id() -> None:
    for name, source in sources().items():
        for expression in re.findall(r"\$\{([^{}]*\broomId\b[^{}]*)\}", source):
            assert re.fullmatch(r"encodeURIComponent\((this\.)?roomId\)", expression), (
                f"{name}: ${{{expression}}} puts a raw room id in a URL"
            )
        assert not re.search(r"\+\s*(this\.)?roomId\b|\broomId\s*\+", source), name


def test_each_sentence_the_page_shows_is_written_once() -> None:
    sentences: Counter[str] = Counter()
    for source in sources().values():
        for text in string_literals(source):
            if len(text.split()) >= 3:
                sentences[text] += 1
    assert [text for text, count in sentences.items() if count > 1] == []


def test_the_literal_reader_reads_templates_and_skips_regexes() -> None:
    source = (
        "const a = `Hi ${user ? 'x y z' : `n ${m}`} there`; // 'not this one'\n"
        "/* 'nor this' */ const r = /\"?([^\"]*)\"?/; const b = 'it''s';\n"
    )
    assert string_literals(source) == ["x y z", "n ${}", "Hi ${} there", "it", "s"]
