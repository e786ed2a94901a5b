"""The JavaScript SDK (``clients/sdk``): its Node tests pass (run here so CI runs them), and
what it hard-codes agrees with the server: the channel's frames, the final close codes and
the version."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import livecommerce
from livecommerce.channel.events import AREAS, CLIENT, CLIENT_FRAMES, SERVER, SERVER_FRAMES
from livecommerce.channel.export_ts import declarations_with_frames, frames_block
from livecommerce.errors import ErrorCode

SDK = Path(__file__).resolve().parents[2] / "clients" / "sdk"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="no node (.ci/run installs Debian's nodejs package)")
def test_the_sdk_node_tests_pass() -> None:
    assert NODE is not None
    files = sorted(str(path.relative_to(SDK)) for path in (SDK / "test").glob("*.test.js"))
    assert len(files) >= 4
    done = subprocess.run(
        [NODE, "--test", *files], cwd=SDK, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.M)
    assert passed is not None, done.stdout[-2000:]
    assert int(passed.group(1)) >= 20


def test_the_declarations_frame_block_is_the_registrys() -> None:
    declarations = (SDK / "livecommerce.d.ts").read_text()
    assert declarations == declarations_with_frames(
        declarations, frames_block(SERVER_FRAMES, CLIENT_FRAMES)
    ), "livecommerce.d.ts is stale: run `python -m livecommerce.channel.export`"


def test_the_declarations_name_every_server_frame_of_every_area_with_its_fields() -> None:
    declarations = (SDK / "livecommerce.d.ts").read_text()
    body = declarations.split("export interface ServerFrames {", 1)[1].split("\n}\n", 1)[0]
    entries = re.split(r"^  (\w+): ", body, flags=re.M)[1:]
    declared = dict(zip(entries[::2], entries[1::2], strict=True))
    assert set(declared) == {frame.name for frame in SERVER_FRAMES}
    assert {frame.name for area in AREAS for frame in area.SERVER_FRAMES} <= set(declared)
    for frame in SERVER_FRAMES:
        shape = declared[frame.name].strip()[1:-2]  # "{ … };" without its own braces
        while re.search(r"\{[^{}]*\}", shape):
            shape = re.sub(r"\{[^{}]*\}", "object", shape)
        names = set(re.findall(r"(\w+)\??: ", shape))
        assert names == {"type", *(field.name for field in frame.fields)}, frame.name


def test_a_frame_missing_from_the_registry_block_is_caught() -> None:
    declarations = (SDK / "livecommerce.d.ts").read_text()
    fewer = frames_block(SERVER_FRAMES[:-1], CLIENT_FRAMES)
    assert declarations != declarations_with_frames(declarations, fewer)


def test_each_keyed_frame_of_the_sdk_is_answered_by_its_result_frame() -> None:
    room = (SDK / "room.js").read_text()
    table = re.search(r"RESULT_OF = Object\.freeze\(\{([^}]*)\}\)", room)
    assert table is not None
    pairs = dict(re.findall(r"(\w+): '(\w+)'", table.group(1)))
    assert pairs == {
        "buy": "buy_result",
        "claim": "claim_result",
        "bid": "bid_result",
        "enter": "enter_result",
    }
    for ask, answer in pairs.items():
        assert "key" in {field.name for field in CLIENT[ask].fields}
        assert "key" in {field.name for field in SERVER[answer].fields}


def test_the_final_close_codes_are_the_catalogues() -> None:
    room = (SDK / "room.js").read_text()
    table = re.search(r"FINAL_CLOSE = Object\.freeze\(\{([^}]*)\}\)", room)
    assert table is not None
    final = {int(code): name for code, name in re.findall(r"(\d+): '(\w+)'", table.group(1))}
    assert final == {
        ErrorCode.banned.spec.close_code: "banned",
        ErrorCode.room_not_found.spec.close_code: "no_room",
        ErrorCode.room_ended.spec.close_code: "room_ended",
    }
    expired = re.search(r"TOKEN_EXPIRED_CLOSE = (\d+)", room)
    assert expired is not None
    assert int(expired.group(1)) == ErrorCode.token_expired.spec.close_code
    drain = re.search(r"DRAIN_CLOSE = (\d+)", room)
    assert drain is not None
    assert int(drain.group(1)) == ErrorCode.shutting_down.spec.close_code


def test_the_sdk_version_is_the_servers() -> None:
    package = json.loads((SDK / "package.json").read_text())
    module = re.search(r"VERSION = '([^']+)'", (SDK / "livecommerce.js").read_text())
    assert module is not None
    assert package["version"] == module.group(1) == livecommerce.__version__


@pytest.mark.skipif(shutil.which("npm") is None, reason="no npm")
def test_the_folder_packs_as_an_npm_package_of_the_sdk_files_only() -> None:
    npm = shutil.which("npm")
    assert npm is not None
    done = subprocess.run(
        [npm, "pack", "--dry-run", "--json", "--ignore-scripts"],
        cwd=SDK,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (packed,) = json.loads(done.stdout)
    files = {entry["path"] for entry in packed["files"]}
    assert {"livecommerce.js", "livecommerce.d.ts", "element.js", "package.json"} <= files
    assert not any(path.startswith("test/") for path in files)
    assert packed["name"] == "@livecommerce/sdk"
