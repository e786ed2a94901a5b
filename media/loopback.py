"""Loopback ICE candidates: aioice leaves 127.0.0.1 out of host candidates.

On a machine whose only interface is loopback (a container without a network)
no candidate is gathered at all and no peer can connect. This adds 127.0.0.1
to aioice's host addresses, process-wide; it is off unless configured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import aioice.ice

LOOPBACK: Final = "127.0.0.1"
_original: Callable[[bool, bool], list[str]] | None = None


def include_loopback_candidates() -> None:
    """Gather 127.0.0.1 too (idempotent)."""
    global _original
    if _original is not None:
        return
    original = aioice.ice.get_host_addresses
    _original = original

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4, use_ipv6)
        if use_ipv4 and LOOPBACK not in addresses:
            addresses.append(LOOPBACK)
        return addresses

    aioice.ice.get_host_addresses = with_loopback
