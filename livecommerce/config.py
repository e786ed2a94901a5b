"""Settings: code defaults → ``--config FILE`` → ``LIVECOMMERCE_<SECTION>_<KEY>`` → flags.

The result is one frozen :class:`Settings`. Every setting is declared once, here,
with its type and validation; ``config/default.toml`` documents the same
defaults (a unit test keeps the two in step). Unknown keys and bad values raise
:class:`ConfigError` whose message is one line naming the setting.

This module is a leaf: it imports nothing from the package.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "LIVECOMMERCE_"
# Other programs share the prefix: the clients (LIVECOMMERCE_MOD_TOKEN,
# LIVECOMMERCE_ANCHOR_TOKEN, …) and the test suite (LIVECOMMERCE_TEST_STORE). Their
# variables are ignored because these words name no section, so none may ever be one.
ENV_WORDS_OF_OTHERS = frozenset({"mod", "anchor", "test"})


class ConfigError(ValueError):
    """A setting is unknown or has a bad value; ``str()`` is one line naming it."""


Validator = Callable[[Any], str | None]


def _setting(default: Any, check: Validator | None = None) -> Any:
    """Declare a setting with its default and an optional check returning a reason."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"check": check})
    return field(default=default, metadata={"check": check})


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be between 0 and 65535"


def _positive(value: float) -> str | None:
    if not math.isfinite(value):
        return "must be a finite number"
    return None if value > 0 else "must be greater than 0"


def _non_negative(value: float) -> str | None:
    if not math.isfinite(value):
        return "must be a finite number"
    return None if value >= 0 else "must be 0 or greater"


def _integer_range(low: int, high: int) -> Validator:
    def check(value: int) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"

    return check


def _one_of(*choices: str) -> Validator:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _http_url_or_empty(value: str) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
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


def _store_url(value: str) -> str | None:
    if not value:
        return None
    if is_cluster_url(value):
        try:
            first_node, _ = cluster_startup_nodes(value)
        except ValueError as exc:
            return str(exc)
        if urlsplit(first_node).path not in ("", "/", "/0"):
            return "a cluster has database 0 only"
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        return (
            "must be a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL,"
            " or empty for the embedded store"
        )
    if parts.scheme == "unix" and not parts.path:
        return "a unix:// URL needs a socket path"
    if parts.scheme != "unix" and not parts.hostname:
        return "needs a host"
    return None


def _key_prefix(value: str) -> str | None:
    if not value.startswith("lc:"):
        return "must start with 'lc:'"
    if any(c in value for c in "{} \t\r\n"):
        return "must not contain braces or whitespace"
    return None


def _secret(value: str) -> str | None:
    if value and len(value) < 32:
        return "must be at least 32 characters (or empty to generate one into the data dir)"
    return None


def _networks(value: list[Any]) -> str | None:
    for item in value:
        try:
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


def _frame_ancestors(value: list[Any]) -> str | None:
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


def _web_origins(value: list[Any]) -> str | None:
    for item in value:
        parts = urlsplit(item) if isinstance(item, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https", "ws", "wss")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username is not None
            or any(c.isspace() or c in ";,'\"" for c in item)
        ):
            return f"must be a list of origins like https://node2.example:8443, not {item!r}"
    return None


@dataclass(frozen=True)
class ServerSettings:
    host: str = _setting("127.0.0.1")
    port: int = _setting(8080, _port)
    public_url: str = _setting("", _http_url_or_empty)
    max_body_bytes: int = _setting(1_048_576, _positive)
    shutdown_timeout_s: float = _setting(5.0, _positive)
    node_heartbeat_s: float = _setting(2.0, _positive)
    # Proxies whose X-Forwarded-For is believed when telling a client's address.
    trusted_proxies: list[str] = _setting([], _networks)  # noqa: RUF009
    max_connections_per_address: int = _setting(256, _non_negative)
    header_read_timeout_s: float = _setting(10.0, _positive)
    keepalive_timeout_s: float = _setting(75.0, _positive)
    # Content-Security-Policy of the pages: who may frame them, and what else they may reach.
    frame_ancestors: list[str] = _setting(["'self'"], _frame_ancestors)  # noqa: RUF009
    connect_origins: list[str] = _setting([], _web_origins)  # noqa: RUF009


@dataclass(frozen=True)
class StoreSettings:
    url: str = _setting("", _store_url)
    data_dir: str = _setting("./var")
    key_prefix: str = _setting("lc:", _key_prefix)
    connect_timeout_s: float = _setting(2.0, _positive)
    command_timeout_s: float = _setting(5.0, _positive)
    retries: int = _setting(2, _non_negative)
    max_connections: int = _setting(128, _positive)
    warm_connections: int = _setting(16, _non_negative)
    embedded_start_timeout_s: float = _setting(10.0, _positive)
    embedded_appendfsync: str = _setting("always", _one_of("always", "everysec", "no"))


@dataclass(frozen=True)
class AuthSettings:
    secret: str = _setting("", _secret)
    token_ttl_s: int = _setting(86_400, _positive)
    viewer_token_required: bool = _setting(False)
    demo_tokens: bool = _setting(False)


ICE_SERVER_KEYS = frozenset({"urls", "username", "credential"})
ICE_URL_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


def _ice_servers(value: list[Any]) -> str | None:
    for server in value:
        if not isinstance(server, dict):
            return 'must be a list of tables like {urls = ["stun:host:3478"]}'
        unknown = sorted(set(server) - ICE_SERVER_KEYS)
        if unknown:
            return f"has an unknown key {unknown[0]!r} (allowed: urls, username, credential)"
        urls = server.get("urls")
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not urls:
            return "each server needs urls: a string or a list of strings"
        for url in urls:
            if not isinstance(url, str) or not url.startswith(ICE_URL_SCHEMES):
                return f"{url!r} is not a stun:, stuns:, turn: or turns: URL"
        for key in ("username", "credential"):
            if key in server and not isinstance(server[key], str):
                return f"{key} must be a string"
    return None


def _ipv4_or_empty(value: str) -> str | None:
    if value == "":
        return None
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return f"must be an IPv4 address like 203.0.113.7 or empty, not {value!r}"
    return None


def udp_port_range(value: str) -> tuple[int, int] | None:
    """``"50000-50999"`` as (50000, 50999); empty as None; ValueError otherwise."""
    if value == "":
        return None
    low, dash, high = value.partition("-")
    if not (dash and f"{low}{high}".isascii() and low.isdigit() and high.isdigit()):
        raise ValueError(f"must look like 50000-50999 or be empty, not {value!r}")
    if not 1024 <= int(low) <= int(high) <= 65535:
        raise ValueError(f"must be a range within 1024-65535 with low <= high, not {value!r}")
    return int(low), int(high)


def _udp_ports(value: str) -> str | None:
    try:
        udp_port_range(value)
    except ValueError as exc:
        return str(exc)
    return None


def _non_empty_strings(value: list[Any]) -> str | None:
    if not all(isinstance(item, str) and item for item in value):
        return "must be a list of non-empty strings"
    return None


@dataclass(frozen=True)
class MediaSettings:
    # _setting gives list defaults a default_factory, so no instance shares a list.
    ice_servers: list[dict[str, Any]] = _setting([], _ice_servers)  # noqa: RUF009
    loopback_candidates: bool = _setting(False)
    cors_origins: list[str] = _setting(["*"], _non_empty_strings)  # noqa: RUF009
    video_queue_frames: int = _setting(90, _positive)
    audio_queue_frames: int = _setting(150, _positive)
    gop_cache_frames: int = _setting(600, _positive)
    keyframe_request_interval_s: float = _setting(0.3, _positive)
    publisher_idle_timeout_s: float = _setting(10.0, _positive)
    not_live_retry_after_s: int = _setting(5, _positive)
    max_sessions: int = _setting(2000, _positive)
    max_sessions_per_address: int = _setting(20, _non_negative)
    connect_timeout_s: float = _setting(15.0, _positive)
    max_candidates_per_session: int = _setting(20, _positive)
    live_heartbeat_s: float = _setting(5.0, _positive)
    pull_from_origin: bool = _setting(True)
    public_ip: str = _setting("", _ipv4_or_empty)
    udp_ports: str = _setting("", _udp_ports)
    session_requests: str = _setting("forward", _one_of("forward", "redirect"))


@dataclass(frozen=True)
class RoomsSettings:
    max_title_chars: int = _setting(140, _positive)
    max_description_chars: int = _setting(2000, _positive)
    list_limit: int = _setting(50, _positive)


@dataclass(frozen=True)
class DiscoverySettings:
    window_s: int = _setting(300, _integer_range(1, 86_400))
    buckets: int = _setting(30, _integer_range(1, 600))
    chat_weight: float = _setting(1.0, _non_negative)
    like_weight: float = _setting(0.1, _non_negative)
    order_weight: float = _setting(5.0, _non_negative)
    viewer_smoothing: float = _setting(5.0, _positive)
    max_ranked_rooms: int = _setting(500, _integer_range(1, 10_000))
    max_likes_per_user: int = _setting(50, _positive)

    @property
    def bucket_ms(self) -> int:
        """Length of one counting slot: the window split into ``buckets`` slots."""
        return self.window_s * 1000 // self.buckets


def _terms(value: list[Any]) -> str | None:
    if not all(isinstance(term, str) and term.strip() for term in value):
        return "must be a list of non-empty strings"
    return None


@dataclass(frozen=True)
class ChannelSettings:
    max_frame_bytes: int = _setting(4096, _positive)
    max_chat_chars: int = _setting(500, _positive)
    history_size: int = _setting(1000, _positive)
    welcome_messages: int = _setting(50, _non_negative)
    chat_burst: int = _setting(5, _positive)
    chat_per_s: float = _setting(1.0, _positive)
    frames_burst: int = _setting(40, _positive)
    frames_per_s: float = _setting(20.0, _positive)
    bad_frames_limit: int = _setting(10, _positive)
    blocked_terms: list[str] = _setting([], _terms)  # noqa: RUF009 - a default_factory field
    send_buffer_bytes: int = _setting(1_048_576, _positive)
    heartbeat_s: float = _setting(20.0, _positive)
    likes_interval_s: float = _setting(0.25, _positive)
    max_likes_per_frame: int = _setting(50, _positive)
    user_likes_burst: int = _setting(100, _positive)
    user_likes_per_s: float = _setting(10.0, _positive)
    viewers_interval_s: float = _setting(2.0, _positive)
    presence_ttl_s: float = _setting(10.0, _positive)
    max_sockets_per_address: int = _setting(50, _non_negative)


@dataclass(frozen=True)
class ModerationSettings:
    audit_log_size: int = _setting(10_000, _positive)
    max_reason_chars: int = _setting(500, _positive)
    max_duration_s: int = _setting(2_592_000, _positive)


def _whsec(secret: object) -> bool:
    if not isinstance(secret, str) or not secret.startswith("whsec_") or len(secret) < 10:
        return False
    body = secret.removeprefix("whsec_").rstrip("=")
    try:
        base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _endpoints(value: list[Any]) -> str | None:
    urls = [e.get("url") for e in value if isinstance(e, dict)]
    if len(urls) != len(set(urls)):
        return "lists the same url twice"
    for index, endpoint in enumerate(value):
        where = f"endpoint {index + 1}"
        if not isinstance(endpoint, dict) or set(endpoint) - {"url", "secret", "secrets"}:
            return f"{where} must be a table with url and secret (or secrets)"
        if _http_url_or_empty(str(endpoint.get("url", ""))) or not endpoint.get("url"):
            return f"{where} needs an http:// or https:// url"
        secrets = endpoint.get("secrets", [endpoint.get("secret")])
        if not isinstance(secrets, list) or not secrets:
            return f"{where} needs a secret"
        if not all(_whsec(secret) for secret in secrets):
            return f"{where} has a secret that is not a whsec_… base64 secret"
    return None


@dataclass(frozen=True)
class CommerceSettings:
    sweep_interval_s: float = _setting(0.5, _positive)
    stock_interval_s: float = _setting(0.5, _positive)
    max_quantity: int = _setting(1_000_000, _positive)
    max_reservation_ttl_s: int = _setting(86_400, _positive)
    max_sale_duration_s: int = _setting(604_800, _positive)
    batch_buys: bool = _setting(True)


@dataclass(frozen=True)
class HooksSettings:
    endpoints: list[dict[str, Any]] = _setting([], _endpoints)  # noqa: RUF009 - a default_factory field
    max_attempts: int = _setting(12, _positive)
    initial_backoff_s: float = _setting(0.5, _positive)
    max_backoff_s: float = _setting(300.0, _positive)
    timeout_s: float = _setting(10.0, _positive)
    poll_interval_s: float = _setting(0.2, _positive)
    claim_idle_s: float = _setting(30.0, _positive)


@dataclass(frozen=True)
class LogSettings:
    level: str = _setting("info", _one_of("debug", "info", "warning", "error"))
    format: str = _setting("text", _one_of("text", "json"))


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = _setting(True)
    public: bool = _setting(True)


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    rooms: RoomsSettings = field(default_factory=RoomsSettings)
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    channel: ChannelSettings = field(default_factory=ChannelSettings)
    moderation: ModerationSettings = field(default_factory=ModerationSettings)
    commerce: CommerceSettings = field(default_factory=CommerceSettings)
    hooks: HooksSettings = field(default_factory=HooksSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    log: LogSettings = field(default_factory=LogSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

    @property
    def public_url(self) -> str:
        """The URL other nodes and redirects use: configured, or derived from host and port."""
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        host = self.server.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server.port}"

    def replace(self, section: str, **values: Any) -> Settings:
        """A copy with some settings of one section changed (validated like any layer)."""
        current = settings_as_dict(self)
        return build_settings([("current", current), ("override", {section: values})])


def _section_types() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for section in dataclasses.fields(Settings):
        cls = typing.get_type_hints(Settings)[section.name]
        hints = typing.get_type_hints(cls)
        result[section.name] = {f.name: (hints[f.name], f) for f in dataclasses.fields(cls)}
    return result


_SCHEMA = _section_types()


def setting_names() -> list[str]:
    """Every setting as ``section.key``, in declaration order."""
    return [f"{s}.{k}" for s, keys in _SCHEMA.items() for k in keys]


def _type_name(kind: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        kind, str(kind)
    )


def _coerce(name: str, kind: Any, value: Any, origin: str) -> Any:
    """Check a value from a file/override against the declared type."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{name}: must be {_type_name(kind)}, got {value!r} ({origin})")
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ConfigError(f"{name}: must be {_type_name(kind)}, got {value!r} ({origin})")
    if kind is str and not isinstance(value, str):
        raise ConfigError(f"{name}: must be {_type_name(kind)}, got {value!r} ({origin})")
    if isinstance(kind, types.GenericAlias) and not isinstance(value, list):
        raise ConfigError(f"{name}: must be a list, got {value!r} ({origin})")
    return value


def _parse_env(name: str, kind: Any, raw: str, origin: str) -> Any:
    """Turn an environment string into the declared type."""
    text = raw.strip()
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: must be true or false, got {raw!r} ({origin})")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{name}: must be an integer, got {raw!r} ({origin})") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{name}: must be a number, got {raw!r} ({origin})") from None
    if kind is str:
        return raw
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: must be a TOML value, got {raw!r} ({origin}): {exc}") from None


Layer = tuple[str, Mapping[str, Any]]


def _shown(name: object) -> str:
    """A section or key name as it may appear in a one-line message."""
    text = str(name)
    return text if text.isprintable() and text.isascii() else repr(text)


def build_settings(layers: list[Layer]) -> Settings:
    """Apply layers of ``{section: {key: value}}`` over the defaults, in order."""
    merged: dict[str, dict[str, Any]] = {s: {} for s in _SCHEMA}
    for origin, layer in layers:
        if not isinstance(layer, Mapping):
            raise ConfigError(f"configuration must be a table ({origin})")
        for section, values in layer.items():
            if section not in _SCHEMA:
                raise ConfigError(f"{_shown(section)}: unknown section ({origin})")
            if not isinstance(values, Mapping):
                raise ConfigError(f"{section}: must be a table ({origin})")
            for key, value in values.items():
                name = f"{section}.{_shown(key)}"
                if key not in _SCHEMA[section]:
                    raise ConfigError(f"{name}: unknown setting ({origin})")
                kind, declared = _SCHEMA[section][key]
                value = _coerce(name, kind, value, origin)
                check = declared.metadata.get("check")
                reason = check(value) if check else None
                if reason:
                    raise ConfigError(f"{name}: {reason}, got {value!r} ({origin})")
                merged[section][key] = value
    sections = {
        section: typing.get_type_hints(Settings)[section](**values)
        for section, values in merged.items()
    }
    return Settings(**sections)


def _file_layer(path: Path) -> Layer:
    origin = f"from {path}"
    try:
        with path.open("rb") as handle:
            return origin, tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"--config: file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"--config: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: {path} is not valid TOML: {exc}") from None


def _env_setting(variable: str) -> tuple[str, str] | None:
    """``(section, key)`` of a ``LIVECOMMERCE_<SECTION>_<KEY>`` variable, or None when
    it does not start with a known section (another program's variable)."""
    if not variable.startswith(ENV_PREFIX):
        return None
    rest = variable[len(ENV_PREFIX) :].lower()
    for section in sorted(_SCHEMA, key=len, reverse=True):
        if rest.startswith(f"{section}_"):
            return section, rest[len(section) + 1 :]
    return None


def _env_layers(environ: Mapping[str, str]) -> list[Layer]:
    """One layer per ``LIVECOMMERCE_<SECTION>_<KEY>`` variable; an unknown key of a known
    section is an error (a typo), a variable naming no section is not ours."""
    layers: list[Layer] = []
    for variable, raw in sorted(environ.items()):
        setting = _env_setting(variable)
        if setting is None:
            continue
        section, key = setting
        origin = f"from env {variable}"
        if key not in _SCHEMA[section]:
            raise ConfigError(f"{section}.{_shown(key)}: unknown setting ({origin})")
        kind, _ = _SCHEMA[section][key]
        value = _parse_env(f"{section}.{key}", kind, raw, origin)
        layers.append((origin, {section: {key: value}}))
    return layers


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build the settings from every layer; raises :class:`ConfigError` on the first problem."""
    layers: list[Layer] = []
    if config_file is not None:
        layers.append(_file_layer(Path(config_file)))
    layers.extend(_env_layers(os.environ if environ is None else environ))
    if flags:
        cleaned = {s: {k: v for k, v in kv.items() if v is not None} for s, kv in flags.items()}
        layers.append(("from command-line flags", cleaned))
    return build_settings(layers)


def settings_as_dict(settings: Settings) -> dict[str, dict[str, Any]]:
    """Settings as plain ``{section: {key: value}}`` (for tests and overrides)."""
    return {s: dataclasses.asdict(getattr(settings, s)) for s in _SCHEMA}
