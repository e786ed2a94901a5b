"""One ``pip install`` of the built wheel carries everything, not only an editable checkout."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

import livecommerce
from tests.integration.nodes import Node, clean_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("livecommerce-*.whl")
    return built


def test_the_wheel_holds_every_package_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in [
        "livecommerce/cli.py",
        "livecommerce/store/scripts/rooms_create.lua",
        "livecommerce/store/scripts/rooms_end.lua",
        "livecommerce/store/scripts/rooms_go_live.lua",
        "livecommerce/store/scripts/rooms_go_offline.lua",
        "media/__init__.py",
        "media/samples/sample-vp8.webm",
        "media/samples/sample-h264.mp4",
        "clients/__init__.py",
        "clients/moderator/cli.py",
        "livecommerce/store/scripts/chat_post.lua",
        "livecommerce/store/scripts/lib/engagement.lua",
        "clients/anchor/cli.py",
        "clients/viewer/index.html",
        "clients/viewer/room.html",
        "clients/viewer/replay.html",
        "clients/viewer/vendor/hls.light.min.js",
        "clients/viewer/vendor/hls.js.LICENSE.txt",
        "clients/viewer/app.css",
        "clients/viewer/icon.svg",
        "clients/viewer/js/room.js",
        "clients/viewer/js/replay.js",
        "clients/viewer/js/player.js",
        "clients/viewer/js/channel.js",
        "clients/sdk/livecommerce.js",
        "clients/sdk/livecommerce.d.ts",
        "clients/sdk/element.js",
        "clients/sdk/package.json",
        "livecommerce/py.typed",
        "media/py.typed",
        "livecommerce/default.toml",
    ]:
        assert required in names, f"{required} missing from {wheel.name}"
    assert wheel.name.startswith(f"livecommerce-{livecommerce.__version__}-")
    archive = zipfile.ZipFile(wheel)
    assert (
        archive.read("livecommerce/default.toml") == (ROOT / "config" / "default.toml").read_bytes()
    )
    licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
    assert archive.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert "Copyright (c) 2026 the livecommerce authors" in archive.read(licence).decode()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "livecommerce = livecommerce.cli:main" in text
    assert "livecommerce-mod = clients.moderator.cli:main" in text
    assert "livecommerce-anchor = clients.anchor.cli:main" in text


@pytest.fixture
def unpacked(wheel: Path, tmp_path: Path) -> Path:
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    return target


def test_a_node_runs_from_the_unpacked_wheel(unpacked: Path, tmp_path: Path) -> None:
    env = clean_env(PYTHONPATH=str(unpacked))
    where = subprocess.run(
        [sys.executable, "-c", "import livecommerce; print(livecommerce.__file__)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(unpacked))
    version = subprocess.run(
        [sys.executable, "-m", "livecommerce", "--version"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout  # fmt: skip
    assert version == f"livecommerce {livecommerce.__version__}\n"
    # Printed from the package (no config/ directory beside the unpacked wheel).
    defaults = subprocess.run(
        [sys.executable, "-m", "livecommerce", "config", "defaults"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout  # fmt: skip
    assert defaults == (ROOT / "config" / "default.toml").read_text(encoding="utf-8")
    token = subprocess.run(
        [sys.executable, "-m", "livecommerce", "token", "--role", "anchor", "--user", "a",
         "--data-dir", str(tmp_path / "var")],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout.strip()  # fmt: skip
    node = Node(tmp_path / "var", env=env, cwd=tmp_path)
    try:
        node.wait_ready()
        status, room = node.request("POST", "/api/rooms", {"title": "from a wheel"}, token)
        assert status == 201, room
        for path in ("/", f"/rooms/{room['id']}", "/static/js/room.js", "/sdk/livecommerce.js"):
            with urllib.request.urlopen(node.url + path, timeout=10) as page:
                assert page.status == 200, path
        status, ended = node.request("POST", f"/api/rooms/{room['id']}/end", None, token)
        assert status == 200
        assert ended["status"] == "ended"
        assert node.stop() == 0
    finally:
        node.close()
