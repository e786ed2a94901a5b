"""The key table of docs/store.md is the one in livecommerce/store/keys.py, and that one
names exactly the keys the module builds."""

from __future__ import annotations

import importlib.util
import inspect
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from livecommerce.store.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
# What each parameter of a key builder is called in the schema's table.
PLACEHOLDERS = {
    "room_id": "ROOM",
    "sale_id": "SALE",
    "order_id": "ORDER",
    "user": "USER",
    "day": "YYYY-MM-DD",
    "step": "STEP",
    "message_id": "MSG",
    "slot": "SLOT",
    "voucher_id": "VOUCHER",
    "auction_id": "AUCTION",
    "giveaway_id": "GIVEAWAY",
    "replay_id": "REPLAY",
}
# Public members of Keys that build parts of keys, not keys.
NOT_KEYS = {"room_tag", "idempotency_field", "prefix"}


def load_generator() -> ModuleType:
    path = ROOT / "scripts" / "gen_key_table.py"
    spec = importlib.util.spec_from_file_location("gen_key_table", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generator = load_generator()


def built_keys() -> dict[str, str]:
    """Every key (and channel) ``Keys`` builds, with placeholders: name → key."""
    keys = Keys(prefix=generator.DOC_PREFIX)
    built: dict[str, str] = {}
    for name, member in inspect.getmembers(Keys, inspect.isfunction):
        if name.startswith("_") or name in NOT_KEYS:
            continue
        parameters = [p for p in inspect.signature(member).parameters if p != "self"]
        unknown = [p for p in parameters if p not in PLACEHOLDERS]
        assert not unknown, f"Keys.{name}: give {unknown} a placeholder in this test"
        built[name] = getattr(keys, name)(*(PLACEHOLDERS[p] for p in parameters))
    return built


def documented(table_name: str) -> set[str]:
    table = generator.schema_tables()[table_name]
    return {re.sub(r"``(.+?)``", r"\1", row[0]) for row in table.rows}


def test_store_md_shows_the_schemas_key_table() -> None:
    document = (ROOT / "docs" / "store.md").read_text()
    tables = generator.schema_tables()
    table = generator.render(tables["key"], tables["family"])
    assert generator.with_table(document, table) == document, (
        "docs/store.md is out of date: run python scripts/gen_key_table.py"
    )


def test_every_key_built_has_a_row_and_every_row_is_built() -> None:
    built = set(built_keys().values())
    rows = documented("key") | documented("channel")
    assert sorted(built - rows) == [], "keys built by Keys with no row in its docstring table"
    assert sorted(rows - built) == [], "rows of the docstring table that Keys does not build"
    assert len(documented("key")) >= 30


# How a family's retention cell may begin: the bound's kind (see keys.py).
RETENTION_KINDS = ("TTL ", "MAXLEN ", "trim: ", "fixed: ")


def test_every_row_has_a_type_contents_and_a_retention_of_a_known_kind() -> None:
    tables = generator.schema_tables()
    assert tables["key"].header == ("key", "type", "contents")
    assert tables["family"].header == ("family", "retention")
    bounds = generator.retention_of(tables["key"], tables["family"])
    for key, kind, contents in tables["key"].rows:
        assert kind in {"hash", "zset", "set", "stream", "string", "HyperLogLog"}, key
        assert contents, key
        assert bounds[key].startswith(RETENTION_KINDS), (key, bounds[key])


def test_the_cluster_section_names_every_key_outside_a_room_tag() -> None:
    document = (ROOT / "docs" / "store.md").read_text()
    paragraph = re.search(r"Keys outside a room tag \((.*?)\)", document, re.DOTALL)
    assert paragraph is not None
    named = set(re.findall(r"`([^`]+)`", paragraph.group(1)))
    untagged = {
        key.removeprefix(generator.DOC_PREFIX)
        for key in documented("key")
        if Keys.room_tag("ROOM") not in key
    }
    assert named == untagged


def test_the_generator_rewrites_a_stale_table_and_check_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (ROOT / "docs" / "store.md").read_text()
    stale = tmp_path / "store.md"
    shutil.copy(ROOT / "docs" / "store.md", stale)
    stale.write_text(original.replace("| `lc:nodes` |", "| `lc:gone` |"))
    monkeypatch.setattr(generator, "STORE_DOC", stale)
    assert generator.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert generator.main([]) == 0
    assert stale.read_text() == original
    assert generator.main(["--check"]) == 0
