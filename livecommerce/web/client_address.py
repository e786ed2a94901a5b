"""The address a request comes from, believing ``X-Forwarded-For`` only from trusted proxies.

Per-address limits (sockets, media sessions, connections, demo tokens) count this address.
Behind a load balancer every TCP peer is the balancer, so ``server.trusted_proxies`` names
the balancers; the client is then the right-most ``X-Forwarded-For`` hop that is not one
of them (hops further left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


class TrustedProxies:
    """The networks whose forwarded-for headers are believed."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(network, strict=False) for network in networks
        )

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(canonical_address(address))
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def client_of(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The client's address given the TCP peer and each ``X-Forwarded-For`` header."""
        if peer is None:
            return UNKNOWN
        peer = canonical_address(peer)
        if not self._networks or not self.trusts(peer):
            return peer
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            if not _is_address(hop):
                return peer  # a garbled header: count the proxy, never a made-up address
            if not self.trusts(hop):
                return canonical_address(hop)
        return peer


def canonical_address(text: str) -> str:
    """One spelling per client: an IPv4 client of a dual-stack socket (``::ffff:a.b.c.d``)
    as its IPv4 address, a scope id dropped, IPv6 compressed; other text as it is."""
    try:
        ip = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return text
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


TRUSTED_PROXIES = web.AppKey("trusted_proxies", TrustedProxies)


def client_address(request: web.Request) -> str:
    """The address per-address limits count for this request."""
    proxies = request.app.get(TRUSTED_PROXIES)
    if proxies is None:
        return request.remote or UNKNOWN
    return proxies.client_of(request.remote, request.headers.getall("X-Forwarded-For", []))
