"""The values settings are parsed into, and the checks on the way.

A check takes a value as TOML (or the environment) gave it and returns the reason it is
bad, or None; a parser turns it into a typed value or raises ``ValueError`` with the
reason. :mod:`livecommerce.config` puts the reason into a one-line message naming the
setting. Like :mod:`livecommerce.config`, this module is a leaf: it imports nothing
from the package.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple
from urllib.parse import SplitResult, urlsplit

Validator = Callable[[Any], str | None]


# Choices


class LogLevel(StrEnum):
    """``log.level``: the lowest level logged."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormat(StrEnum):
    """``log.format``: ``text`` for people, ``json`` for one object per line."""

    text = "text"
    json = "json"


class AppendFsync(StrEnum):
    """``store.embedded_appendfsync``: how often the embedded store syncs its log."""

    always = "always"
    everysec = "everysec"
    no = "no"


class SessionRequests(StrEnum):
    """``media.session_requests``: how a node treats a request for another node's session."""

    forward = "forward"
    redirect = "redirect"


def choice_check(choices: type[StrEnum]) -> Validator:
    """A check that a string is one of the enum's values."""
    values = [member.value for member in choices]

    def check(value: str) -> str | None:
        return None if value in values else f"must be one of {', '.join(values)}"

    return check


# Numbers


def port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be between 0 and 65535"


def positive(value: float) -> str | None:
    if not math.isfinite(value):
        return "must be a finite number"
    return None if value > 0 else "must be greater than 0"


def non_negative(value: float) -> str | None:
    if not math.isfinite(value):
        return "must be a finite number"
    return None if value >= 0 else "must be 0 or greater"


def integer_range(low: int, high: int) -> Validator:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"

    return check


# URLs and names


def _split(url: str) -> SplitResult | None:
    """The URL's parts, or None when it cannot be split (a bad IPv6 literal)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def http_url_or_empty(value: str) -> str | None:
    if not value:
        return None
    parts = _split(value)
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an http:// or https:// URL, or empty"
    return None


CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
DEFAULT_STORE_PORT = 6379


def is_cluster_url(url: str) -> bool:
    """True for a ``redis+cluster://`` or ``rediss+cluster://`` store URL."""
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def cluster_startup_nodes(url: str) -> tuple[str, list[tuple[str, int]]]:
    """A cluster URL as a plain URL of its first node and the ``(host, port)`` of each
    node it names; ``ValueError`` when it names none."""
    scheme, _, rest = url.partition("://")
    plain_scheme = CLUSTER_SCHEMES[scheme.lower()]
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hosts = authority.rpartition("@")
    nodes: list[tuple[str, int]] = []
    for entry in hosts.split(","):
        host, colon, port = entry.strip().rpartition(":")
        if not colon or "]" in port:  # no port given (or only an IPv6 address)
            host, port = entry.strip(), str(DEFAULT_STORE_PORT)
        host = host.strip("[]")
        if not host or not (port.isascii() and port.isdigit()):
            raise ValueError(f"bad cluster node {entry!r} (expected host:port)")
        nodes.append((host, int(port)))
    first = (
        f"{nodes[0][0]}:{nodes[0][1]}"
        if ":" not in nodes[0][0]
        else f"[{nodes[0][0]}]:{nodes[0][1]}"
    )
    return f"{plain_scheme}://{userinfo}{at}{first}{tail}", nodes


def store_url(value: str) -> str | None:
    if not value:
        return None
    if is_cluster_url(value):
        try:
            first_node, _ = cluster_startup_nodes(value)
        except ValueError as exc:
            return str(exc)
        parts = _split(first_node)
        if parts is None:
            return "bad cluster URL"
        if parts.path not in ("", "/", "/0"):
            return "a cluster has database 0 only"
        return None
    parts = _split(value)
    if parts is None or parts.scheme not in ("redis", "rediss", "unix"):
        return (
            "must be a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL,"
            " or empty for the embedded store"
        )
    if parts.scheme == "unix" and not parts.path:
        return "a unix:// URL needs a socket path"
    if parts.scheme != "unix" and not parts.hostname:
        return "needs a host"
    return None


def key_prefix(value: str) -> str | None:
    if not value.startswith("lc:"):
        return "must start with 'lc:'"
    if any(c in value for c in "{} \t\r\n"):
        return "must not contain braces or whitespace"
    return None


def signing_secret(value: str) -> str | None:
    if value and len(value) < 32:
        return "must be at least 32 characters (or empty to generate one into the data dir)"
    return None


# Lists


def networks(value: list[object]) -> str | None:
    for item in value:
        try:
            if not isinstance(item, str | int | bytes):
                raise TypeError(item)
            ipaddress.ip_network(item, strict=False)
        except (TypeError, ValueError):
            return f"must be a list of IP addresses or networks like 10.0.0.0/8, not {item!r}"
    return None


# CSP source expressions a page's frame-ancestors may list (CSP Level 3, "ancestor-source"):
# 'self', 'none', a scheme ("https:") or a host source ("https://*.shop.example:443").
_CSP_KEYWORDS = ("'self'", "'none'")
_CSP_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:")
_CSP_HOST_SOURCE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?(?:\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(?:[0-9]{1,5}|\*))?"
    r"(?:/[A-Za-z0-9._~%!$&()*+=:@/-]*)?",
    re.IGNORECASE,
)


def frame_ancestors(value: list[object]) -> str | None:
    for item in value:
        if not isinstance(item, str):
            return (
                f"must be a list of CSP sources like 'self' or https://shop.example, not {item!r}"
            )
        if item in _CSP_KEYWORDS or _CSP_SCHEME.fullmatch(item) or _CSP_HOST_SOURCE.fullmatch(item):
            continue
        return (
            f"{item!r} is not a CSP source: use 'self', 'none', a scheme like https: "
            "or an origin like https://shop.example"
        )
    if "'none'" in value and len(value) > 1:
        return "'none' cannot be listed with other sources"
    if not value:
        return "must list at least one source ('none' forbids every frame)"
    return None


def web_origins(value: list[object]) -> str | None:
    for item in value:
        if not (isinstance(item, str) and _is_origin(item)):
            return f"must be a list of origins like https://node2.example:8443, not {item!r}"
    return None


def cors_origins(value: list[object]) -> str | None:
    if "*" in value and len(value) > 1:
        return '"*" (any origin) cannot be listed with other origins'
    if value == ["*"]:
        return None
    for item in value:
        if not (isinstance(item, str) and _is_origin(item) and item.startswith("http")):
            return f'must be ["*"] or a list of origins like https://shop.example, not {item!r}'
    return None


def _is_origin(item: str) -> bool:
    parts = _split(item)
    return not (
        parts is None
        or parts.scheme not in ("http", "https", "ws", "wss")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or any(c.isspace() or c in ";,'\"" for c in item)
    )


def non_empty_strings(value: list[object]) -> str | None:
    if not all(isinstance(item, str) and item for item in value):
        return "must be a list of non-empty strings"
    return None


def terms(value: list[object]) -> str | None:
    if not all(isinstance(term, str) and term.strip() for term in value):
        return "must be a list of non-empty strings"
    return None


# Media: ICE servers and NAT


ICE_SERVER_KEYS = frozenset({"urls", "username", "credential"})
ICE_URL_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server of ``media.ice_servers`` (``urls`` like ``stun:host:3478``)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = field(default=None, repr=False)

    def as_table(self) -> dict[str, object]:
        """The server as a TOML table."""
        table: dict[str, object] = {"urls": list(self.urls)}
        if self.username is not None:
            table["username"] = self.username
        if self.credential is not None:
            table["credential"] = self.credential
        return table


def ice_servers(value: list[object]) -> tuple[IceServer, ...]:
    """``media.ice_servers`` tables as servers; ``ValueError`` with the reason otherwise."""
    servers: list[IceServer] = []
    for server in value:
        if not isinstance(server, dict):
            raise ValueError('must be a list of tables like {urls = ["stun:host:3478"]}')
        unknown = sorted(set(server) - ICE_SERVER_KEYS)
        if unknown:
            raise ValueError(
                f"has an unknown key {unknown[0]!r} (allowed: urls, username, credential)"
            )
        urls = server.get("urls")
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not urls:
            raise ValueError("each server needs urls: a string or a list of strings")
        for url in urls:
            if not isinstance(url, str) or not url.startswith(ICE_URL_SCHEMES):
                raise ValueError(f"{url!r} is not a stun:, stuns:, turn: or turns: URL")
        for key in ("username", "credential"):
            if key in server and not isinstance(server[key], str):
                raise ValueError(f"{key} must be a string")
        servers.append(IceServer(tuple(urls), server.get("username"), server.get("credential")))
    return tuple(servers)


def ipv4_or_empty(value: str) -> str | None:
    if value == "":
        return None
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return f"must be an IPv4 address like 203.0.113.7 or empty, not {value!r}"
    return None


class PortRange(NamedTuple):
    """``media.udp_ports``: the UDP ports ICE binds, both ends included."""

    low: int
    high: int

    def as_text(self) -> str:
        return f"{self.low}-{self.high}"


def udp_port_range(value: str) -> PortRange | None:
    """``"50000-50999"`` as (50000, 50999); empty as None; ValueError otherwise."""
    if value == "":
        return None
    low, dash, high = value.partition("-")
    if not (dash and f"{low}{high}".isascii() and low.isdigit() and high.isdigit()):
        raise ValueError(f"must look like 50000-50999 or be empty, not {value!r}")
    if not 1024 <= int(low) <= int(high) <= 65535:
        raise ValueError(f"must be a range within 1024-65535 with low <= high, not {value!r}")
    return PortRange(int(low), int(high))


def port_range_text(ports: PortRange | None) -> str:
    """``media.udp_ports`` as written: ``"50000-50999"``, or empty for None."""
    return "" if ports is None else ports.as_text()


# Hooks: webhook endpoints

WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ``ValueError`` if it is not one."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError("a webhook secret must start with 'whsec_'")
    encoded = secret.removeprefix(WEBHOOK_SECRET_PREFIX).rstrip("=")
    try:
        # Unpadded base64 is common in the wild: pad it here.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret must be base64 after 'whsec_'") from None
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key


@dataclass(frozen=True)
class EndpointConfig:
    """One entry of ``hooks.endpoints``: a URL and the ``whsec_…`` secrets its deliveries
    are signed with (several during a rotation). Constructing one decodes the secrets
    into ``keys``, so a value that exists has keys that sign."""

    url: str
    secrets: tuple[str, ...] = field(repr=False)
    keys: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.secrets:
            raise ValueError("an endpoint needs a secret")
        object.__setattr__(self, "keys", tuple(webhook_key(s) for s in self.secrets))

    def as_table(self) -> dict[str, object]:
        """The endpoint as a TOML table."""
        return {"url": self.url, "secrets": list(self.secrets)}


def endpoints(value: list[object]) -> tuple[EndpointConfig, ...]:
    """``hooks.endpoints`` tables as endpoints; ``ValueError`` with the reason otherwise."""
    urls = [e["url"] for e in value if isinstance(e, dict) and isinstance(e.get("url"), str)]
    if len(urls) != len(set(urls)):
        raise ValueError("lists the same url twice")
    parsed: list[EndpointConfig] = []
    for index, endpoint in enumerate(value):
        parsed.append(_endpoint(f"endpoint {index + 1}", endpoint))
    return tuple(parsed)


def _endpoint(where: str, endpoint: object) -> EndpointConfig:
    if not isinstance(endpoint, dict) or set(endpoint) - {"url", "secret", "secrets"}:
        raise ValueError(f"{where} must be a table with url and secret (or secrets)")
    url = endpoint.get("url")
    if not isinstance(url, str) or not url or http_url_or_empty(url):
        raise ValueError(f"{where} needs an http:// or https:// url")
    secrets = endpoint.get("secrets", [endpoint.get("secret")])
    if not isinstance(secrets, list) or not secrets:
        raise ValueError(f"{where} needs a secret")
    # At least four base64 characters after the prefix: three bytes of key.
    if not all(isinstance(secret, str) and len(secret) >= 10 for secret in secrets):
        raise ValueError(f"{where} has a secret that is not a whsec_… base64 secret")
    try:
        return EndpointConfig(url, tuple(secrets))
    except ValueError:
        raise ValueError(f"{where} has a secret that is not a whsec_… base64 secret") from None


def as_toml(value: object) -> object:
    """A typed setting as TOML would write it (enums as their text, tuples as lists,
    servers and endpoints as tables)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, IceServer | EndpointConfig):
        return value.as_table()
    if isinstance(value, tuple):
        return [as_toml(item) for item in value]
    return value


# Whatnot-like: $1 steps below $30, $2 below $100, $5 below $500, $10 below $1,000, then $25.
DEFAULT_INCREMENTS = ((0, 100), (3000, 200), (10000, 500), (50000, 1000), (100000, 2500))
MAX_INCREMENT_ROWS = 32
MAX_CENTS = 10_000_000_000


def increment_table(value: object) -> tuple[tuple[int, int], ...]:
    """An auction increment table: ``[[from_cents, step_cents], …]``, the first row from 0,
    ``from_cents`` increasing, each step from 1 cent; ``ValueError`` with the reason."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_INCREMENT_ROWS:
        raise ValueError(f"must be a list of 1 to {MAX_INCREMENT_ROWS} [from_cents, step_cents]")
    rows: list[tuple[int, int]] = []
    for row in value:
        if (
            not isinstance(row, list | tuple)
            or len(row) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in row)
            or not 0 <= row[0] <= MAX_CENTS
            or not 1 <= row[1] <= MAX_CENTS
        ):
            raise ValueError("each row must be [from_cents, step_cents] with step_cents >= 1")
        rows.append((row[0], row[1]))
    if rows[0][0] != 0:
        raise ValueError("the first row must start from 0 cents")
    if any(later[0] <= earlier[0] for earlier, later in itertools.pairwise(rows)):
        raise ValueError("from_cents must increase from row to row")
    return tuple(rows)
