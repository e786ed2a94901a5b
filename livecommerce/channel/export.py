"""The event registry and the error catalogue, written out for the docs and the web client.

``python -m livecommerce.channel.export [ROOT]`` rewrites, under the source
tree ROOT (default: the current directory), the frame tables of
``docs/channel.md`` (between ``<!-- registry:… -->`` markers),
``clients/viewer/js/errors.js`` and the frame types of the SDK's
``clients/sdk/livecommerce.d.ts``. Tests fail when any of them differs from
what this module writes, so the docs, the web client and the SDK cannot drift
from the server.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from livecommerce.channel.events import CLIENT_FRAMES, SERVER_FRAMES, Field
from livecommerce.channel.export_ts import (
    SDK_DECLARATIONS,
    declarations_with_frames,
    frames_block,
)
from livecommerce.errors import ErrorCode

DOCS = Path("docs/channel.md")
VIEWER_ERRORS = Path("clients/viewer/js/errors.js")
BLOCK = re.compile(r"(<!-- registry:(\w+) -->\n).*?(<!-- /registry:\2 -->)", re.DOTALL)


def _field(field: Field) -> str:
    text = f"`{field.name}` {field.kind.value}"
    if field.nullable:
        text += " or null"
    if field.optional:
        text += ", optional"
    return f"{text}: {field.note}" if field.note else text


def _fields(fields: Sequence[Field]) -> str:
    return "; ".join(_field(field) for field in fields)


def server_table() -> str:
    """The server → client frames as a Markdown table."""
    rows = ["| type | fields | to | when |", "|---|---|---|---|"]
    for frame in SERVER_FRAMES:
        rows.append(
            f"| `{frame.name}` | {_fields(frame.fields)} | {frame.audience.value} | {frame.when} |"
        )
    return "\n".join(rows) + "\n"


def client_table() -> str:
    """The client → server frames as a Markdown table."""
    rows = ["| type | fields | notes |", "|---|---|---|"]
    for frame in CLIENT_FRAMES:
        rows.append(f"| `{frame.name}` | {_fields(frame.fields)} | {frame.when} |")
    return "\n".join(rows) + "\n"


TABLES = {"server": server_table, "client": client_table}


def docs_with_tables(text: str) -> str:
    """``text`` (docs/channel.md) with every registry block written anew."""

    def block(match: re.Match[str]) -> str:
        return match.group(1) + TABLES[match.group(2)]() + match.group(3)

    return BLOCK.sub(block, text)


def viewer_errors_js() -> str:
    """``clients/viewer/js/errors.js``: each error code's WebSocket close code."""
    codes = {code.name: code.spec.close_code for code in ErrorCode}
    body = ",\n".join(f"  {name}: {close}" for name, close in codes.items())
    return (
        "// Generated from livecommerce/errors.py by `python -m livecommerce.channel.export`;"
        " do not edit.\n"
        "// The WebSocket close code of each error code (docs/channel.md, Close codes).\n"
        f"export const CLOSE_CODES = Object.freeze({{\n{body},\n}});\n"
    )


def main(argv: Sequence[str]) -> int:
    root = Path(argv[0]) if argv else Path.cwd()
    docs = root / DOCS
    docs.write_text(docs_with_tables(docs.read_text(encoding="utf-8")), encoding="utf-8")
    (root / VIEWER_ERRORS).write_text(viewer_errors_js(), encoding="utf-8")
    sdk = root / SDK_DECLARATIONS
    block = frames_block(SERVER_FRAMES, CLIENT_FRAMES)
    sdk.write_text(declarations_with_frames(sdk.read_text(encoding="utf-8"), block), "utf-8")
    print(f"wrote {docs}, {root / VIEWER_ERRORS} and {sdk}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
