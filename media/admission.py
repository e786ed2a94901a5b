"""Admission of media sessions: the node's limit and each client's.

A session holds its slot from before its negotiation starts (so a burst of
offers cannot overshoot the limits while answers are being gathered) until it
ends, whatever ends it. ``client`` is whatever the application counts by (a
client address); ``None`` is a session counted only against the node's limit
(another node pulling a room, whose own viewers are counted where they are).
"""

from __future__ import annotations

from collections import Counter


class CapacityError(Exception):
    """This node already runs ``max_sessions`` sessions."""


class ClientLimitError(Exception):
    """This client already holds ``max_sessions_per_client`` sessions."""


class SessionSlots:
    """Slots by session id; ``max_per_client`` 0 means no per-client limit."""

    def __init__(self, max_sessions: int, max_per_client: int) -> None:
        self._max_sessions = max_sessions
        self._max_per_client = max_per_client
        self._clients: dict[str, str | None] = {}
        self._per_client: Counter[str] = Counter()

    def acquire(self, session_id: str, client: str | None) -> None:
        """Take a slot for ``session_id``, or raise :class:`CapacityError` /
        :class:`ClientLimitError` (the client's limit is checked first: a client
        at its limit is told so even on a full node)."""
        if (
            client is not None
            and self._max_per_client
            and self._per_client[client] >= self._max_per_client
        ):
            raise ClientLimitError(client)
        if len(self._clients) >= self._max_sessions:
            raise CapacityError(session_id)
        self._clients[session_id] = client
        if client is not None:
            self._per_client[client] += 1

    def release(self, session_id: str) -> None:
        """Give the slot back (idempotent)."""
        if session_id not in self._clients:
            return
        client = self._clients.pop(session_id)
        if client is not None:
            self._per_client[client] -= 1
            if self._per_client[client] <= 0:
                del self._per_client[client]

    def __len__(self) -> int:
        return len(self._clients)

    def of_client(self, client: str) -> int:
        return self._per_client[client]
