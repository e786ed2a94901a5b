"""ICE behind NAT and firewalls: a public address to announce, a UDP port range to bind.

A node on a cloud machine usually has a private address behind a 1:1 NAT and
a firewall that opens a fixed range of UDP ports. aioice knows neither: it
binds any free port and announces only the machine's own addresses (plus a
STUN server's answer, when one is configured). With an :class:`IceNetwork`:

* ``public_ip``: next to each IPv4 host candidate, a server-reflexive
  candidate with the public address and the same port (what a STUN server
  would answer behind a 1:1 NAT, without asking one);
* ``port_range``: host candidates bound to a port in ``[low, high]``; a node
  with every port of the range in use refuses more sessions (no candidate).

This module holds the candidates' arithmetic; hooking it into aioice's
gathering is :func:`media.aiortc_patches.configure_ice`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from aioice.candidate import Candidate, candidate_foundation, candidate_priority

LOWEST_PORT = 1024
HIGHEST_PORT = 65535


@dataclass(frozen=True)
class IceNetwork:
    """What to announce and where to bind; None leaves aioice's way.

    Raises ``ValueError`` for a public address that is not IPv4 or a port range
    outside 1024-65535.
    """

    public_ip: str | None = None
    port_range: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.public_ip is not None:
            ipaddress.IPv4Address(self.public_ip)  # ValueError for anything else
        if self.port_range is not None:
            low, high = self.port_range
            if not LOWEST_PORT <= low <= high <= HIGHEST_PORT:
                raise ValueError(
                    f"port range {low}-{high} must lie within {LOWEST_PORT}-{HIGHEST_PORT}"
                )


def host_candidate(component: int, host: str, port: int) -> Candidate:
    """The UDP host candidate of a socket bound at ``host:port``."""
    return Candidate(
        foundation=candidate_foundation("host", "udp", host),
        component=component,
        transport="udp",
        priority=candidate_priority(component, "host"),
        host=host,
        port=port,
        type="host",
    )


def with_public_address(candidates: list[Candidate], public_ip: str) -> list[Candidate]:
    """``candidates`` plus a server-reflexive one at ``public_ip`` for each host behind NAT."""
    return candidates + [reflexive(c, public_ip) for c in candidates if behind_nat(c, public_ip)]


def behind_nat(candidate: Candidate, public_ip: str) -> bool:
    """An IPv4 host candidate that is not loopback and not the public address itself."""
    if candidate.type != "host" or candidate.host == public_ip:
        return False
    try:
        address = ipaddress.ip_address(candidate.host)
    except ValueError:
        return False
    return address.version == 4 and not address.is_loopback


def reflexive(host: Candidate, public_ip: str) -> Candidate:
    """The server-reflexive candidate a STUN server would report for ``host`` behind a 1:1 NAT."""
    return Candidate(
        foundation=candidate_foundation("srflx", "udp", public_ip),
        component=host.component,
        transport="udp",
        priority=candidate_priority(host.component, "srflx"),
        host=public_ip,
        port=host.port,
        type="srflx",
        related_address=host.host,
        related_port=host.port,
    )
