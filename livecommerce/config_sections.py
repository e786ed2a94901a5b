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
    # Sites whose pages may call /api, WHIP/WHEP and the channel, and frame the pages.
    cors_origins: tuple[str, ...] = _setting((), rules.cors_origins)
    drain_delay_s: float = _setting(0.0, rules.non_negative)


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
    schema_lock_s: float = _setting(60.0, rules.positive)
    min_replicas_ack: int = _setting(0, rules.non_negative)
    replica_ack_timeout_s: float = _setting(1.0, rules.positive)


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
    handover_s: float = _setting(10.0, rules.non_negative)


@dataclass(frozen=True)
class RoomsSettings:
    max_title_chars: int = _setting(140, rules.positive)
    max_description_chars: int = _setting(2000, rules.positive)
    list_limit: int = _setting(50, rules.positive)
    retention_days: float = _setting(90.0, rules.positive)
    sweep_interval_s: float = _setting(60.0, rules.positive)


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
    chat_idle_ttl_s: float = _setting(3600.0, rules.positive)


@dataclass(frozen=True)
class ModerationSettings:
    audit_log_size: int = _setting(10_000, rules.positive)
    max_reason_chars: int = _setting(500, rules.positive)
    max_duration_s: int = _setting(2_592_000, rules.positive)
    default_automod_level: int = _setting(0, rules.integer_range(0, 3))
    review_ttl_s: int = _setting(86_400, rules.positive)
    review_queue_size: int = _setting(1_000, rules.positive)
    report_threshold: int = _setting(3, rules.non_negative)
    reports_per_window: int = _setting(10, rules.positive)
    report_window_s: int = _setting(60, rules.positive)
    spam_window_s: int = _setting(30, rules.positive)
    repeat_limit: int = _setting(3, rules.positive)
    copy_paste_limit: int = _setting(3, rules.integer_range(2, 1_000_000))
    copy_paste_min_chars: int = _setting(12, rules.positive)
    shield_level: int = _setting(2, rules.integer_range(0, 3))
    shield_slow_mode_s: int = _setting(10, rules.integer_range(0, 3600))
    shield_buyers_only: bool = _setting(False)
    settings_cache_s: float = _setting(0.5, rules.positive)
    max_terms: int = _setting(200, rules.positive)


@dataclass(frozen=True)
class CommerceSettings:
    sweep_interval_s: float = _setting(0.5, rules.positive)
    stock_interval_s: float = _setting(0.5, rules.positive)
    max_quantity: int = _setting(1_000_000, rules.positive)
    max_reservation_ttl_s: int = _setting(86_400, rules.positive)
    max_sale_duration_s: int = _setting(604_800, rules.positive)
    batch_buys: bool = _setting(True)
    order_retention_days: float = _setting(30.0, rules.positive)
    idempotency_ttl_s: float = _setting(86_400.0, rules.positive)
    daily_buyers_retention_days: float = _setting(400.0, rules.positive)


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


@dataclass(frozen=True)
class AnalyticsSettings:
    enabled: bool = _setting(True)
    exact_users_max: int = _setting(1000, rules.integer_range(0, 100_000))
    watch_interval_s: float = _setting(1.0, rules.positive)
    live_retention_days: float = _setting(7.0, rules.positive)
    report_retention_days: float = _setting(400.0, rules.positive)
    impressions_burst: int = _setting(120, rules.non_negative)
    impressions_per_s: float = _setting(2.0, rules.positive)
    views_burst: int = _setting(20, rules.positive)
    views_per_s: float = _setting(2.0, rules.positive)


@dataclass(frozen=True)
class ImagesSettings:
    dir: str = _setting("")
    max_bytes: int = _setting(2_097_152, rules.positive)
    max_width: int = _setting(4096, rules.positive)
    max_height: int = _setting(4096, rules.positive)
    uploads_per_minute: int = _setting(20, rules.non_negative)


def _increments(value: object) -> str | None:
    try:
        rules.increment_table(value)
    except ValueError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class FormatsSettings:
    """Vouchers, auctions and giveaways (see docs/formats.md)."""

    tick_s: float = _setting(0.05, rules.positive)
    bid_broadcast_interval_s: float = _setting(0.1, rules.positive)
    auction_increments: tuple[tuple[int, int], ...] = _setting(
        rules.DEFAULT_INCREMENTS, _increments, parse=rules.increment_table, read_as=list
    )
    auction_payment_ttl_s: int = _setting(900, rules.positive)
    max_auction_duration_s: int = _setting(86_400, rules.positive)
    max_anti_snipe_s: int = _setting(600, rules.positive)
    max_giveaway_duration_s: int = _setting(604_800, rules.positive)
    max_giveaway_winners: int = _setting(100, rules.positive)
    max_voucher_quantity: int = _setting(1_000_000, rules.positive)
    # At most 5,000 ids of up to 128 characters: a frame well under channel.send_buffer_bytes.
    giveaway_ended_entrants_max: int = _setting(1_000, rules.integer_range(0, 5_000))


@dataclass(frozen=True)
class RecordingSettings:
    enabled: bool = _setting(True)
    # Empty: "recordings" under store.data_dir.
    dir: str = _setting("")
    keep_days: float = _setting(30.0, rules.positive)
    max_disk_mb: int = _setting(10_240, rules.non_negative)
    segment_s: float = _setting(2.0, rules.positive)
    prefer_h264: bool = _setting(True)
    timeline_chat_max: int = _setting(500, rules.non_negative)
    sweep_interval_s: float = _setting(3600.0, rules.positive)
    replay_stock: int = _setting(100, rules.non_negative)
    replay_per_user_limit: int = _setting(5, rules.positive)
    replay_reservation_ttl_s: int = _setting(900, rules.positive)
    replay_buys_per_minute: int = _setting(30, rules.non_negative)
    s3_bucket: str = _setting("")
    s3_endpoint_url: str = _setting("", rules.http_url_or_empty)
    s3_region: str = _setting("us-east-1")
    s3_access_key_id: str = _setting("")
    s3_secret_access_key: str = _setting("")
    s3_prefix: str = _setting("replays/")
    s3_url_ttl_s: int = _setting(3600, rules.positive)
    s3_keep_local: bool = _setting(False)
