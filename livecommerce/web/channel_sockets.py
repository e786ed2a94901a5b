"""Open channel sockets per client address, counted on this node.

``channel.max_sockets_per_address`` caps them (0 = unlimited): the next socket
from a full address is refused with 429 ``too_many_connections`` before the
WebSocket upgrade. The count is per node, in memory: behind a load balancer
spreading one address over N nodes, an address may hold up to N times the cap.
"""

from __future__ import annotations

from aiohttp import web


class SocketsPerAddress:
    """How many channel sockets each client address holds open on this node."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def open(self, address: str, limit: int) -> bool:
        """Count one more socket for ``address``; False (nothing counted) when it
        already holds ``limit`` (0 = no limit)."""
        held = self._open.get(address, 0)
        if limit and held >= limit:
            return False
        self._open[address] = held + 1
        return True

    def close(self, address: str) -> None:
        """Forget one socket of ``address`` (each :meth:`open` that returned True, once)."""
        held = self._open.get(address, 0) - 1
        if held > 0:
            self._open[address] = held
        else:
            self._open.pop(address, None)

    def held(self, address: str) -> int:
        return self._open.get(address, 0)


CHANNEL_SOCKETS = web.AppKey("channel_sockets", SocketsPerAddress)
