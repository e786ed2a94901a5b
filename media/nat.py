"""ICE behind NAT and firewalls: a public address to announce, a UDP port range to bind.

A node on a cloud machine usually has a private address behind a 1:1 NAT and
a firewall that opens a fixed range of UDP ports. aioice knows neither: it
binds any free port and announces only the machine's own addresses (plus a
STUN server's answer, when one is configured). This adds, process-wide:

* ``public_ip``: next to each IPv4 host candidate, a server-reflexive
  candidate with the public address and the same port (what a STUN server
  would answer behind a 1:1 NAT, without asking one);
* ``port_range``: host candidates bound to a port in ``[low, high]``; a node
  with every port of the range in use refuses more sessions (no candidate).

Off unless configured; ``configure_ice`` may be called again to change both.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aioice.ice
from aioice import turn
from aioice.candidate import Candidate, candidate_foundation, candidate_priority

GatherFunction = Callable[[Any, int, list[str], int], Awaitable[list[Candidate]]]


@dataclass(frozen=True)
class IceNetwork:
    public_ip: str | None = None
    port_range: tuple[int, int] | None = None


_network = IceNetwork()
_original: GatherFunction | None = None


def configure_ice(public_ip: str | None = None, port_range: tuple[int, int] | None = None) -> None:
    """Announce ``public_ip`` and bind in ``port_range`` from now on (None: aioice's way)."""
    global _network, _original
    if public_ip is not None:
        ipaddress.IPv4Address(public_ip)  # ValueError for anything else
    if port_range is not None:
        low, high = port_range
        if not 1024 <= low <= high <= 65535:
            raise ValueError(f"port range {low}-{high} must lie within 1024-65535")
    _network = IceNetwork(public_ip, port_range)
    if _original is None:
        _original = aioice.ice.Connection.get_component_candidates
        aioice.ice.Connection.get_component_candidates = _gather  # type: ignore[method-assign,assignment]


async def _gather(
    connection: Any,
    component: int,
    addresses: list[str],
    timeout: int = 5,  # noqa: ASYNC109 - aioice's signature
) -> list[Candidate]:
    assert _original is not None
    network = _network
    if network.port_range is None:
        candidates = await _original(connection, component, addresses, timeout)
    else:
        hosts = await _bind_in_range(connection, component, addresses, network.port_range)
        # STUN and TURN as aioice does; its host sockets are ours, bound above.
        candidates = hosts + await _original(connection, component, [], timeout)
    if network.public_ip is not None:
        public_ip = network.public_ip
        candidates += [_reflexive(c, public_ip) for c in candidates if _behind_nat(c, public_ip)]
    return candidates


async def _bind_in_range(
    connection: Any, component: int, addresses: list[str], port_range: tuple[int, int]
) -> list[Candidate]:
    loop = asyncio.get_running_loop()
    low, high = port_range
    candidates = []
    for address in addresses:
        ports = list(range(low, high + 1))
        random.shuffle(ports)
        for port in ports:
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: aioice.ice.StunProtocol(connection), local_addr=(address, port)
                )
            except OSError:
                continue  # taken: try the next port
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, turn.UDP_SOCKET_BUFFER_SIZE)
            host, bound = transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host),
                component=component,
                transport="udp",
                priority=candidate_priority(component, "host"),
                host=host,
                port=bound,
                type="host",
            )
            connection._protocols.append(protocol)
            candidates.append(protocol.local_candidate)
            break
    return candidates


def _behind_nat(candidate: Candidate, public_ip: str) -> bool:
    """An IPv4 host candidate that is not loopback and not the public address itself."""
    if candidate.type != "host" or candidate.host == public_ip:
        return False
    try:
        address = ipaddress.ip_address(candidate.host)
    except ValueError:
        return False
    return address.version == 4 and not address.is_loopback


def _reflexive(host: Candidate, public_ip: str) -> Candidate:
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
