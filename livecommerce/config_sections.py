"""The sections of :class:`~livecommerce.config.Settings`: every setting, declared once
with its type, default and check (the checks and value types are in
:mod:`livecommerce.config_values`).

To add a section: its frozen dataclass here, a field in ``Settings``
(``livecommerce/config.py``), a commented table in ``config/default.toml``.

This module is a leaf: it imports nothing from the package but :mod:`livecommerce.config_values`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livecommerce import config_values as rules
from livecommerce.config_values import (
    AppendFsync,
    EndpointConfig,
    IceServer,
    LogFormat,
    LogLevel,
    PortRange,
    SessionRequests,
    Validator,
    as_toml,
)


def _setting(
    default: object,
    check: Validator | None = None,
    *,
    parse: Callable[[Any], object] | None = None,
    read_as: type | None = None,
    dump: Callable[[Any], object] = as_toml,
) -> Any:
    """Declare a setting: its typed default, an optional ``check`` returning a reason, an
    optional ``parse`` from the value as read (``read_as``, when it is not the declared
    type's TOML form) to the typed value, and ``dump`` back to TOML."""
    return field(
        default=default,
        metadata={"check": check, "parse": parse, "read_as": read_as, "dump": dump},
    )


@dataclass(frozen=True)
class ServerSettings:
    host: str = _setting("127.0.0.1")
    port: int = _setting(8080, rules.port)
    public_url: str = _setting("", rules.http_url_or_empty)
    max_body_bytes: int = _setting(1_048_576, rules.positive)
    shutdown_timeout_s: float = _setting(5.0, rules.positive)
    node_heartbeat_s: float = _setting(2.0, rules.positive)
    # Proxies whose X-Forwarded-For is believed when telling a client's address.
    trusted_proxies: tuple[str, ...] = _setting((), rules.networks)
    max_connections_per_address: int = _setting(256, rules.non_negative)
    header_read_timeout_s: float = _setting(10.0, rules.positive)
    keepalive_timeout_s: float = _setting(75.0, rules.positive)
    # Content-Security-Policy of the pages: who may frame them, and what else they may reach.
    frame_ancestors: tuple[str, ...] = _setting(("'self'",), rules.frame_ancestors)
    connect_origins: tuple[str, ...] = _setting((), rules.web_origins)


@dataclass(frozen=True)
class StoreSettings:
    url: str = _setting("", rules.store_url)
    data_dir: str = _setting("./var")
    key_prefix: str = _setting("lc:", rules.key_prefix)
    connect_timeout_s: float = _setting(2.0, rules.positive)
    command_timeout_s: float = _setting(5.0, rules.positive)
    retries: int = _setting(2, rules.non_negative)
    max_connections: int = _setting(128, rules.positive)
    warm_connections: int = _setting(16, rules.non_negative)
    embedded_start_timeout_s: float = _setting(10.0, rules.positive)
    embedded_appendfsync: AppendFsync = _setting(AppendFsync.always)


@dataclass(frozen=True)
class AuthSettings:
    secret: str = _setting("", rules.signing_secret)
    token_ttl_s: int = _setting(86_400, rules.positive)
    viewer_token_required: bool = _setting(False)
    demo_tokens: bool = _setting(False)


@dataclass(frozen=True)
class MediaSettings:
    ice_servers: tuple[IceServer, ...] = _setting((), parse=rules.ice_servers)
    loopback_candidates: bool = _setting(False)
    cors_origins: tuple[str, ...] = _setting(("*",), rules.non_empty_strings)
    video_queue_frames: int = _setting(90, rules.positive)
    audio_queue_frames: int = _setting(150, rules.positive)
    gop_cache_frames: int = _setting(600, rules.positive)
    keyframe_request_interval_s: float = _setting(0.3, rules.positive)
    publisher_idle_timeout_s: float = _setting(10.0, rules.positive)
    not_live_retry_after_s: int = _setting(5, rules.positive)
    max_sessions: int = _setting(2000, rules.positive)
    max_sessions_per_address: int = _setting(20, rules.non_negative)
    connect_timeout_s: float = _setting(15.0, rules.positive)
    max_candidates_per_session: int = _setting(20, rules.positive)
    live_heartbeat_s: float = _setting(5.0, rules.positive)
    pull_from_origin: bool = _setting(True)
    public_ip: str = _setting("", rules.ipv4_or_empty)
    udp_ports: PortRange | None = _setting(
        None, parse=rules.udp_port_range, read_as=str, dump=rules.port_range_text
    )
    session_requests: SessionRequests = _setting(SessionRequests.forward)


@dataclass(frozen=True)
class RoomsSettings:
    max_title_chars: int = _setting(140, rules.positive)
    max_description_chars: int = _setting(2000, rules.positive)
    list_limit: int = _setting(50, rules.positive)


@dataclass(frozen=True)
class DiscoverySettings:
    window_s: int = _setting(300, rules.integer_range(1, 86_400))
    buckets: int = _setting(30, rules.integer_range(1, 600))
    chat_weight: float = _setting(1.0, rules.non_negative)
    like_weight: float = _setting(0.1, rules.non_negative)
    order_weight: float = _setting(5.0, rules.non_negative)
    viewer_smoothing: float = _setting(5.0, rules.positive)
    max_ranked_rooms: int = _setting(500, rules.integer_range(1, 10_000))
    max_likes_per_user: int = _setting(50, rules.positive)

    @property
    def bucket_ms(self) -> int:
        """Length of one counting slot: the window split into ``buckets`` slots."""
        return self.window_s * 1000 // self.buckets


@dataclass(frozen=True)
class ChannelSettings:
    max_frame_bytes: int = _setting(4096, rules.positive)
    max_chat_chars: int = _setting(500, rules.positive)
    history_size: int = _setting(1000, rules.positive)
    welcome_messages: int = _setting(50, rules.non_negative)
    chat_burst: int = _setting(5, rules.positive)
    chat_per_s: float = _setting(1.0, rules.positive)
    frames_burst: int = _setting(40, rules.positive)
    frames_per_s: float = _setting(20.0, rules.positive)
    bad_frames_limit: int = _setting(10, rules.positive)
    blocked_terms: tuple[str, ...] = _setting((), rules.terms)
    send_buffer_bytes: int = _setting(1_048_576, rules.positive)
    heartbeat_s: float = _setting(20.0, rules.positive)
    likes_interval_s: float = _setting(0.25, rules.positive)
    max_likes_per_frame: int = _setting(50, rules.positive)
    user_likes_burst: int = _setting(100, rules.positive)
    user_likes_per_s: float = _setting(10.0, rules.positive)
    viewers_interval_s: float = _setting(2.0, rules.positive)
    presence_ttl_s: float = _setting(10.0, rules.positive)
    max_sockets_per_address: int = _setting(50, rules.non_negative)
    write_delay_ms: float = _setting(20.0, rules.non_negative)
    sampling_chat_rate: float = _setting(40.0, rules.non_negative)
    viewer_chat_rate: int = _setting(10, rules.positive)
    exact_viewers_up_to: int = _setting(1000, rules.non_negative)


@dataclass(frozen=True)
class ModerationSettings:
    audit_log_size: int = _setting(10_000, rules.positive)
    max_reason_chars: int = _setting(500, rules.positive)
    max_duration_s: int = _setting(2_592_000, rules.positive)


@dataclass(frozen=True)
class CommerceSettings:
    sweep_interval_s: float = _setting(0.5, rules.positive)
    stock_interval_s: float = _setting(0.5, rules.positive)
    max_quantity: int = _setting(1_000_000, rules.positive)
    max_reservation_ttl_s: int = _setting(86_400, rules.positive)
    max_sale_duration_s: int = _setting(604_800, rules.positive)
    batch_buys: bool = _setting(True)
    order_retention_days: float = _setting(30.0, rules.positive)


@dataclass(frozen=True)
class HooksSettings:
    endpoints: tuple[EndpointConfig, ...] = _setting((), parse=rules.endpoints)
    max_attempts: int = _setting(12, rules.positive)
    initial_backoff_s: float = _setting(0.5, rules.positive)
    max_backoff_s: float = _setting(300.0, rules.positive)
    timeout_s: float = _setting(10.0, rules.positive)
    poll_interval_s: float = _setting(0.2, rules.positive)
    claim_idle_s: float = _setting(30.0, rules.positive)
    retention_days: float = _setting(7.0, rules.positive)
    trim_interval_s: float = _setting(300.0, rules.positive)
    dead_letter_retention_days: float = _setting(30.0, rules.positive)


@dataclass(frozen=True)
class LogSettings:
    level: LogLevel = _setting(LogLevel.info)
    format: LogFormat = _setting(LogFormat.text)


@dataclass(frozen=True)
class MetricsSettings:
    enabled: bool = _setting(True)
    public: bool = _setting(True)
