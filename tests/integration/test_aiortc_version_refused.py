"""A node refuses to start under other aiortc or aioice versions than media/aiortc_patches.py
was written for, naming what it found and what it needs, before it listens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livecommerce.app import create_app
from livecommerce.store.embedded import EmbeddedValkey
from media.aiortc_patches import UnsupportedVersionError
from tests.conftest import make_settings
from tests.integration.nodes import clean_env, run_cli
from tests.unit.test_media_aiortc_patches import fake_distribution

REFUSAL = "aioice 0.12.0 is installed, 0.13.0 is required"


def test_create_app_refuses_another_aioice(
    valkey: EmbeddedValkey, tmp_path: Path, key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    fake_distribution(site, "aioice", "0.12.0")
    monkeypatch.syspath_prepend(str(site))

    with pytest.raises(UnsupportedVersionError, match=REFUSAL):
        create_app(make_settings(valkey.url, tmp_path, key_prefix))


def test_serve_exits_with_the_refusal_instead_of_listening(
    valkey: EmbeddedValkey, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    fake_distribution(site, "aioice", "0.12.0")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    env = clean_env(PYTHONPATH=path, LIVECOMMERCE_STORE_URL=valkey.url)

    done = run_cli("serve", "--port", "0", "--data-dir", str(tmp_path / "data"), env=env)

    assert done.returncode == 1
    assert REFUSAL in done.stderr
    # One line, like every start-up refusal: no traceback.
    assert done.stderr.strip().startswith("livecommerce: "), done.stderr
    assert "Traceback" not in done.stderr
    assert "listening" not in done.stdout
