"""Where finished replays may be kept besides the node's disk: the interface only (the
S3 implementation, :mod:`livecommerce.replays.s3`, is made by the app, so the domain
imports no HTTP client)."""

from __future__ import annotations

from typing import Protocol


class StorageError(Exception):
    """The object store refused or did not answer."""


class ObjectStore(Protocol):
    """A bucket of objects named by key. Every call raises :class:`StorageError` on failure;
    ``delete`` of a missing object succeeds."""

    @property
    def name(self) -> str: ...

    def key(self, replay_id: str, file_name: str) -> str: ...

    async def put(self, key: str, body: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    def presigned_get(self, key: str, expires_s: int) -> str:
        """A URL anyone may GET the object with until it expires."""
        ...
