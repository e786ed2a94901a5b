"""The node registry: which nodes run, where other nodes reach them, since when.

Every node writes its entry into the ``nodes`` hash when it starts and every
``server.node_heartbeat_s`` after, with an expiry three beats ahead; it removes
the entry when it stops cleanly and lets it lapse when it dies. Readers ignore
lapsed entries. Media session ids start with their node's id (see
``streams.service``), so a request for a session that lands on another node
finds the holding node here, and a room whose origin stopped beating can be
taken over at once.

Guarantees: an entry is *alive* until its expiry; a node that cannot write
(store down) for three beats counts as dead to the others, and beats again
by itself when the store is back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livecommerce.store.client import STORE_UNAVAILABLE_ERRORS, StoreClient
from livecommerce.store.decoding import as_text
from livecommerce.store.keys import Keys
from livecommerce.tasks import Supervisor

log = logging.getLogger("livecommerce.nodes")

# A node is alive for this many of its heartbeats after its last one.
BEATS_PER_TTL = 3
# Lapsed entries stay this long before a reader prunes them: long enough that a node
# which just beat again after a store outage is never pruned by a reader that read
# its lapsed entry a moment before (it would then count as dead until its next beat).
PRUNE_AFTER_MS = 3_600_000
# The end of a URL derived from a configuration that listens on any free port.
UNKNOWN_PORT = ":0"
# Media session ids are "<node id>.<random>"; the random part never has this character.
SESSION_NODE_SEPARATOR = "."


def now_ms() -> int:
    return int(time.time() * 1000)


def node_of_session(session_id: str) -> str | None:
    """The id of the node holding a media session, from the session id; None if it has none."""
    node_id, separator, rest = session_id.partition(SESSION_NODE_SEPARATOR)
    return node_id if separator and node_id and rest else None


@dataclass(frozen=True)
class NodeInfo:
    """One node's registry entry (times in ms since the epoch)."""

    id: str
    url: str
    started_at: int
    seen_at: int
    expires_at: int

    @classmethod
    def from_json(cls, node_id: str, raw: bytes | str) -> NodeInfo | None:
        """Decode an entry; None for one that is not ours to read (kept, never fatal)."""
        try:
            entry = json.loads(as_text(raw))
            return cls(
                node_id,
                str(entry["url"]),
                int(entry["started_at"]),
                int(entry["seen_at"]),
                int(entry["expires_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def to_store(self) -> str:
        return json.dumps(
            {
                "url": self.url,
                "started_at": self.started_at,
                "seen_at": self.seen_at,
                "expires_at": self.expires_at,
            }
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "started_at": self.started_at,
            "seen_at": self.seen_at,
            "expires_at": self.expires_at,
        }


class NodeRegistry:
    """This node's entry (kept fresh by a background beat) and reads of everyone's."""

    def __init__(
        self,
        client: StoreClient,
        keys: Keys,
        node_id: str,
        url: str,
        heartbeat_s: float,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._client = client
        self._keys = keys
        self.node_id = node_id
        self.url = url.rstrip("/")
        self._heartbeat_s = heartbeat_s
        self._ttl_ms = int(heartbeat_s * BEATS_PER_TTL * 1000)
        self._clock_ms = clock_ms
        self._started_at = clock_ms()
        self._tasks = Supervisor(logger=log)

    @property
    def port_known(self) -> bool:
        """False while the URL still says port 0 (configured to listen on any free port)."""
        return not self.url.endswith(UNKNOWN_PORT)

    def learn_port(self, port: int) -> None:
        """Put the port the node listens on into a URL configured with port 0.

        The URL never comes from a request: it is ``server.public_url`` or
        ``http://server.host:server.port``, and only the port of the node's own
        listening socket may complete it (the next beat advertises it).
        """
        if not self.port_known and 0 < port < 65536:
            self.url = self.url.removesuffix(UNKNOWN_PORT) + f":{port}"

    def start(self) -> None:
        """Register now and keep the entry fresh until :meth:`stop`."""
        self._tasks.every(
            "nodes-heartbeat",
            self._heartbeat_s,
            self.beat_once,
            quiet=STORE_UNAVAILABLE_ERRORS,
        )

    async def stop(self) -> None:
        """Stop beating and remove this node's entry (a clean shutdown is not a death)."""
        await self._tasks.stop()
        try:
            await self._client.hdel(self._keys.nodes(), self.node_id)
        except STORE_UNAVAILABLE_ERRORS as exc:
            log.warning("could not remove this node from the registry (%s); it will lapse", exc)

    async def beat_once(self) -> NodeInfo:
        """Write this node's entry with a fresh expiry."""
        now = self._clock_ms()
        entry = NodeInfo(self.node_id, self.url, self._started_at, now, now + self._ttl_ms)
        await self._client.hset(self._keys.nodes(), self.node_id, entry.to_store())
        return entry

    async def alive(self) -> list[NodeInfo]:
        """The nodes whose entry has not lapsed, oldest first; prunes long-lapsed entries."""
        now = self._clock_ms()
        entries = await self._client.hgetall(self._keys.nodes())
        alive: list[NodeInfo] = []
        pruned: list[str] = []
        for raw_id, raw in entries.items():
            node = NodeInfo.from_json(as_text(raw_id), raw)
            if node is None:
                continue
            if node.expires_at >= now:
                alive.append(node)
            elif node.expires_at < now - PRUNE_AFTER_MS:
                pruned.append(node.id)
        if pruned:
            await self._client.hdel(self._keys.nodes(), *pruned)
        return sorted(alive, key=lambda node: (node.started_at, node.id))

    async def find(self, node_id: str) -> NodeInfo | None:
        """The node's entry while it is alive; None when unknown or lapsed."""
        raw = await self._client.hget(self._keys.nodes(), node_id)
        node = None if raw is None else NodeInfo.from_json(node_id, raw)
        return node if node is not None and node.expires_at >= self._clock_ms() else None
