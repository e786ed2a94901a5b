"""The store's schema version: a node refuses a store written by a newer release, and
brings an older one up to date once, under a lock.

``SCHEMA_VERSION`` is the layout of the keys this release reads and writes
(:mod:`livecommerce.store.keys`). The store keeps the version it holds in
``P{schema}:version``. At start a node reads it:

- equal: nothing to do;
- newer than this node knows: :class:`SchemaTooNewError` (one line naming both
  versions), and the node does not start;
- older, or absent: the node takes ``P{schema}:lock`` (``SET NX PX``), runs each
  migration from the stored version up to ``SCHEMA_VERSION`` and stamps each step
  with ``schema_stamp.lua`` (refused if the lock was lost); the other nodes wait
  for the stamp, or for the lock to lapse and take it over.

A migration must be safe to run again: a node that dies half-way leaves the
version at the last finished step, and the next node runs the rest. A store with
no version is taken as version 0, and the step 0 → 1 changes nothing (version 1
is the layout that introduced the version key).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.keys import Keys
from livecommerce.store.lua import ScriptRunner
from livecommerce.store.replies_schema import SchemaStampReply

log = logging.getLogger("livecommerce.store.schema")

SCHEMA_VERSION = 1
# How often a node that waits for another node's migration looks again.
POLL_S = 0.1


class SchemaTooNewError(RuntimeError):
    """The store was written by a newer release than this node; the message says so in
    one line."""


class SchemaMigrationError(RuntimeError):
    """A migration did not finish: its lock lapsed, or the wait for another node's ran
    out."""


@dataclass(frozen=True)
class Migration:
    """The step from ``to_version - 1`` to ``to_version``; ``run`` must be safe to repeat."""

    to_version: int
    describe: str
    run: Callable[[StoreClient, Keys], Awaitable[None]]


async def _nothing(client: StoreClient, keys: Keys) -> None:
    return None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "stamp the version key (the layout is unchanged)", _nothing),
)


def too_new_message(stored: int, known: int) -> str:
    return (
        f"the store holds schema version {stored}, newer than this release knows ({known}): "
        "upgrade this node, or point it at another store (docs/operations.md, Upgrades)"
    )


async def stored_version(client: StoreClient, keys: Keys) -> int:
    """The version the store holds (0 when none was ever written)."""
    raw = await client.get(keys.schema_version())
    return int(raw) if raw is not None else 0


async def ensure_schema(
    client: StoreClient,
    keys: Keys,
    scripts: ScriptRunner,
    *,
    lock_s: float,
    migrations: Sequence[Migration] = MIGRATIONS,
    version: int = SCHEMA_VERSION,
) -> int:
    """Make the store hold ``version``: return at once when it does; raise
    :class:`SchemaTooNewError` when it holds a newer one; otherwise run the missing
    migrations on exactly one node at a time (the lock) and return the version found
    before. Waits at most about ``2 * lock_s`` for another node's migration."""
    deadline = time.monotonic() + 2 * lock_s
    token = secrets.token_hex(12)
    while True:
        found = await stored_version(client, keys)
        if found > version:
            raise SchemaTooNewError(too_new_message(found, version))
        if found == version:
            return found
        lock_ms = max(1, int(lock_s * 1000))
        if await client.set(keys.schema_lock(), token, nx=True, px=lock_ms):
            await _migrate(client, keys, scripts, token, migrations, version, lock_s)
            return found
        if time.monotonic() > deadline:
            raise SchemaMigrationError(
                f"waited {2 * lock_s:.0f} s for another node to migrate the store from "
                f"schema version {found} to {version}"
            )
        await asyncio.sleep(POLL_S)


async def _migrate(
    client: StoreClient,
    keys: Keys,
    scripts: ScriptRunner,
    token: str,
    migrations: Sequence[Migration],
    version: int,
    lock_s: float,
) -> None:
    found = await stored_version(client, keys)  # another node may have finished meanwhile
    steps = [step for step in migrations if found < step.to_version <= version]
    if found < version and (not steps or steps[-1].to_version != version):
        raise SchemaMigrationError(f"no migration reaches schema version {version}")
    lock_ms = max(1, int(lock_s * 1000))
    for n, step in enumerate(sorted(steps, key=lambda s: s.to_version)):
        await step.run(client, keys)
        last = n == len(steps) - 1
        stamp = await scripts.call(
            SchemaStampReply,
            [keys.schema_version(), keys.schema_lock()],
            [token, step.to_version, 1 if last else 0, lock_ms],
        )
        if not stamp.stamped:
            raise SchemaMigrationError(
                f"lost the migration lock before stamping schema version {step.to_version} "
                "(a migration took longer than store.schema_lock_s)"
            )
    if not steps:
        await scripts.call(
            SchemaStampReply, [keys.schema_version(), keys.schema_lock()], [token, found, 1, 0]
        )


class SchemaGate:
    """The schema check of one node, done once the store answers.

    At start-up the node runs :meth:`check` (and refuses to start on a newer schema).
    A node that started while the store was not answering runs it from ``/readyz``
    until it gets through: then, against a newer schema, the node stays not ready
    (503, the reason logged once) instead of serving a layout it does not know.
    """

    def __init__(
        self, client: StoreClient, keys: Keys, scripts: ScriptRunner, *, lock_s: float
    ) -> None:
        self._client, self._keys, self._scripts, self._lock_s = client, keys, scripts, lock_s
        self.checked = False
        self.refusal: str | None = None

    async def check(self) -> bool:
        """True once the store holds this release's schema (migrating it if needed);
        False while the store does not answer or holds a newer schema."""
        if self.checked:
            return self.refusal is None
        try:
            await ensure_schema(self._client, self._keys, self._scripts, lock_s=self._lock_s)
        except SchemaTooNewError as refusal:
            self.checked, self.refusal = True, str(refusal)
            log.error("%s; /readyz answers 503", refusal)
            return False
        except STORE_UNAVAILABLE_ERRORS:
            return False
        self.checked = True
        return True
