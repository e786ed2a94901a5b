"""The shipped ``default.toml``: every setting with its default and a comment.

The repo's ``config/default.toml`` is the one copy. The wheel carries it as
``livecommerce/default.toml`` (hatch's ``force-include``); a source checkout
or an editable install reads the repo's file.

This module is a leaf: it imports nothing of the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGED = "default.toml"
IN_REPO = Path(__file__).resolve().parents[1] / "config" / "default.toml"


def default_toml() -> str:
    """The text of the shipped ``default.toml``; ``FileNotFoundError`` when neither the
    package nor the checkout holds it (a broken install)."""
    packaged = resources.files("livecommerce").joinpath(PACKAGED)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return IN_REPO.read_text(encoding="utf-8")
