"""The configured webhook endpoints as typed values.

An endpoint's id is a short hash of its URL: stable across restarts and nodes,
so it names the endpoint's consumer group on every outbox stream
(``hooks:<id>``), its attempt counters and its dead letters. Changing the URL
(even a trailing slash) makes a new endpoint, which starts from the beginning
of every outbox stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from livecommerce.config import EndpointConfig

GROUP_PREFIX = "hooks:"


@dataclass(frozen=True)
class Endpoint:
    """One webhook URL and the keys its deliveries are signed with."""

    id: str
    url: str
    keys: tuple[bytes, ...]

    @property
    def group(self) -> str:
        """The endpoint's consumer group on every outbox stream."""
        return group_name(self.id)

    def __repr__(self) -> str:  # never print the keys
        return f"Endpoint(id={self.id!r}, url={self.url!r})"


def endpoint_id(url: str) -> str:
    """12 hex digits of the URL's SHA-256."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def group_name(endpoint: str) -> str:
    return GROUP_PREFIX + endpoint


def endpoints_of(configured: Sequence[EndpointConfig]) -> list[Endpoint]:
    """The endpoints of ``hooks.endpoints``, each with its id.

    The settings parsed them; this raises ``ValueError`` naming the endpoint for a URL
    given twice (two endpoints would share one consumer group).
    """
    endpoints: list[Endpoint] = []
    seen: set[str] = set()
    for index, config in enumerate(configured):
        if config.url in seen:
            raise ValueError(f"hooks.endpoints: endpoint {index + 1}: {config.url} is listed twice")
        seen.add(config.url)
        endpoints.append(Endpoint(endpoint_id(config.url), config.url, config.keys))
    return endpoints
