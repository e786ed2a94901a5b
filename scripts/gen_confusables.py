"""Write livecommerce/moderation/confusables.json: each character that Unicode's
confusables data (UTS #39 ``confusables.txt``) says looks like an ASCII letter, digit or
one of the punctuation marks that spell a link, address or handle, mapped to that
character (lower case).

The data is read from the ``confusable-homoglyphs`` package (the ``test`` extra, pinned
in constraints/test.txt), which ships ``confusables.txt`` as JSON. The server does not
depend on it at run time: automod needs one ``str.translate`` table, not the package's
per-string search, so the table is generated here and committed; a test checks that it
is this script's output.

    python scripts/gen_confusables.py          # rewrite the table
    python scripts/gen_confusables.py --check  # exit 1 if the committed table differs
"""

from __future__ import annotations

import json
import string
import sys
from importlib.resources import files
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "livecommerce/moderation/confusables.json"
# Letters and digits, then the marks of links (. / :), addresses (@), handles ($ @) and
# phone numbers (+ -). Earlier targets win when a character looks like two of them.
TARGETS = string.ascii_lowercase + string.digits + string.ascii_uppercase + "./:@$+-"


def build() -> dict[str, str]:
    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text())
    table: dict[str, str] = {}
    for target in TARGETS:
        for glyph in data.get(target, ()):
            char = glyph["c"]
            if len(char) == 1 and not char.isascii() and char not in table:
                table[char] = target.lower()
    return dict(sorted(table.items()))


def render(table: dict[str, str]) -> str:
    return json.dumps(table, ensure_ascii=True, indent=0, sort_keys=True) + "\n"


def main() -> int:
    text = render(build())
    if "--check" in sys.argv[1:]:
        if TABLE.read_text(encoding="utf-8") != text:
            print(f"{TABLE} is stale: run python scripts/gen_confusables.py", file=sys.stderr)
            return 1
        return 0
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {len(json.loads(text))} characters to {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
