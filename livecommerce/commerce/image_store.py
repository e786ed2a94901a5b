"""Product images on disk: one file per content, named by its SHA-256.

A name is ``<64 hex digits>.<png|jpg|webp>``; the same bytes always get the
same name, so a file never changes once written (it is served as immutable)
and a second upload of the same image costs nothing. Writes go to a
temporary file first and are renamed into place, so a reader never sees half
a file. Several nodes serving one domain need ``images.dir`` on shared storage.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path

from livecommerce.commerce.image_check import ImageInfo

NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)$")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
URL_PREFIX = "/images/"


class ImageStore:
    """The directory of product images (made on first use, private to this user)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def save(self, data: bytes, info: ImageInfo) -> str:
        """Store the image; its name (the same bytes give the same name)."""
        name = f"{hashlib.sha256(data).hexdigest()}.{info.extension}"
        await asyncio.to_thread(self._write, name, data)
        return name

    def _write(self, name: str, data: bytes) -> None:
        target = self.directory / name
        if target.is_file():
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def path(self, name: str) -> Path | None:
        """The file of ``name`` if the name is one this store makes and the file exists."""
        if not NAME.fullmatch(name):
            return None
        path = self.directory / name
        return path if path.is_file() else None

    @staticmethod
    def url(name: str) -> str:
        return URL_PREFIX + name

    @staticmethod
    def content_type(name: str) -> str:
        return CONTENT_TYPES[name.rsplit(".", 1)[1]]
