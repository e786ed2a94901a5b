"""Prometheus metrics of one node: every metric is defined here, and only here.

Each app has a :class:`Metrics` with a registry of its own (several apps in one
test process must not share counters). Services get the metric objects they
count into when they are built; what is cheap to read when scraped (open
sockets, media sessions, frame counters of the media plane, rooms live) is
read then, through a :class:`NodeReading`, instead of being updated on every
change. ``docs/metrics.md`` lists every metric.

Beside our own metrics the registry holds prometheus_client's standard
``process_*`` (CPU, memory, open files of this process) and ``python_info``.

This module is a leaf: it imports nothing of the package but its version, only
prometheus_client.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from livecommerce import __version__

# No ``*_created`` series beside each counter: they double the output and no
# dashboard reads them (a process-wide switch of prometheus_client).
disable_created_metrics()  # type: ignore[no-untyped-call]

# A buy answered from the node's memory takes ~1 ms, one through the store a few ms,
# a buy queued behind a burst of thousands up to a second or two.
BUY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
# One store round trip on loopback is ~0.1 ms; past the command timeout (5 s) it fails.
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# An API call answers in a few ms; a WHIP/WHEP offer (ICE gathering) can take seconds.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LabelledCounter:
    """A counter with one label whose children are made once per value: ``labels()``
    takes a lock and builds a key on every call, too much for a hot path."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._children: dict[str, Counter] = {}

    def inc(self, value: str, amount: float = 1) -> None:
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = self._counter.labels(value)
        child.inc(amount)


class LabelledHistogram:
    """A histogram with one label, its children made once per value."""

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._children: dict[str, Histogram] = {}

    def observe(self, value: str, seconds: float) -> None:
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = self._histogram.labels(value)
        child.observe(seconds)


class HookCounter:
    """Hook deliveries by endpoint and result, children made once per pair."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._children: dict[tuple[str, str], Counter] = {}

    def inc(self, endpoint: str, result: str) -> None:
        child = self._children.get((endpoint, result))
        if child is None:
            child = self._children[(endpoint, result)] = self._counter.labels(endpoint, result)
        child.inc()


class HttpRequests:
    """HTTP requests by route template, method and status class, and their latency.

    Label values must come from bounded sets: the route's canonical path (never the
    raw path), a known method or ``other``, and ``1xx`` … ``5xx``.
    """

    def __init__(self, requests: Counter, seconds: Histogram) -> None:
        self._requests = requests
        self._seconds = seconds
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    def observe(self, route: str, method: str, status: int, seconds: float | None) -> None:
        """Count one answered request; time it unless ``seconds`` is None (an upgraded
        WebSocket, whose handler returns when the socket closes)."""
        status_class = status // 100
        counter = self._counted.get((route, method, status_class))
        if counter is None:
            counter = self._requests.labels(route, method, f"{status_class}xx")
            self._counted[(route, method, status_class)] = counter
        counter.inc()
        if seconds is None:
            return
        histogram = self._timed.get((route, method))
        if histogram is None:
            histogram = self._timed[(route, method)] = self._seconds.labels(route, method)
        histogram.observe(seconds)


class TrackCounts(Protocol):
    """A media kind's counters (``media.stats.KindTotals`` has them)."""

    frames_in: int
    bytes_in: int
    keyframe_requests_sent: int
    frames_out: int
    bytes_out: int
    frames_dropped: int
    keyframe_requests: int


@dataclass(frozen=True)
class NodeReading:
    """What a scrape reads from the node's own objects (and the store, for rooms live)."""

    # Open channel sockets by wire format (json, msgpack).
    channel_sockets: Mapping[str, int] = field(default_factory=dict)
    publications: int = 0
    pulls: int = 0
    media_viewers: int = 0
    media: Mapping[str, TrackCounts] = field(default_factory=dict)
    rooms_live: int | None = None  # None: the store did not answer in time
    # Events each webhook endpoint has not acknowledged yet, by endpoint id, as of the
    # dispatcher's last poll (empty: no endpoints, or not polled yet).
    hook_backlog: Mapping[str, int] = field(default_factory=dict)
    hook_dead_letters: int | None = None  # None: the store did not answer in time


# (metric name, help, attribute of TrackCounts) of the media plane's counters, by kind.
MEDIA_COUNTERS = (
    (
        "livecommerce_media_frames_received",
        "Frames received from publishers and pulls.",
        "frames_in",
    ),
    ("livecommerce_media_received_bytes", "Bytes of frames received.", "bytes_in"),
    ("livecommerce_media_frames_forwarded", "Frames sent to WHEP viewers.", "frames_out"),
    ("livecommerce_media_forwarded_bytes", "Bytes of frames sent to WHEP viewers.", "bytes_out"),
    (
        "livecommerce_media_frames_dropped",
        "Frames a viewer lost: its queue overflowed, or it waited for a keyframe.",
        "frames_dropped",
    ),
    (
        "livecommerce_media_keyframe_requests",
        "Keyframe requests (PLI/FIR) received from viewers.",
        "keyframe_requests",
    ),
    (
        "livecommerce_media_keyframe_requests_sent",
        "Keyframe requests (PLI) sent to publishers, rate limited.",
        "keyframe_requests_sent",
    ),
)


class _NodeCollector(Collector):
    """Yields the values read for the scrape in progress (none outside a scrape)."""

    def __init__(self) -> None:
        self.reading: NodeReading | None = None

    def collect(self) -> Iterator[Metric]:
        reading = self.reading
        if reading is None:
            return
        sockets = GaugeMetricFamily(
            "livecommerce_channel_sockets",
            "Open room channel sockets on this node, by wire format.",
            labels=["format"],
        )
        for wire, count in sorted(reading.channel_sockets.items()):
            sockets.add_metric([wire], count)
        yield sockets
        yield _gauge(
            "livecommerce_media_publications",
            "WHIP publications on this node.",
            reading.publications,
        )
        yield _gauge(
            "livecommerce_media_pulls",
            "Rooms this node pulls from their origin node.",
            reading.pulls,
        )
        yield _gauge(
            "livecommerce_media_viewers",
            "WHEP viewer sessions on this node.",
            reading.media_viewers,
        )
        if reading.rooms_live is not None:
            yield _gauge(
                "livecommerce_rooms_live",
                "Rooms live in the store (all nodes).",
                reading.rooms_live,
            )
        if reading.hook_backlog:
            backlog = GaugeMetricFamily(
                "livecommerce_hook_backlog",
                "Outbox events a webhook endpoint has not acknowledged yet (all nodes).",
                labels=["endpoint"],
            )
            for endpoint, events in sorted(reading.hook_backlog.items()):
                backlog.add_metric([endpoint], events)
            yield backlog
        if reading.hook_dead_letters is not None:
            yield _gauge(
                "livecommerce_hook_dead_letters",
                "Webhook deliveries that gave up, kept for an operator (all nodes).",
                reading.hook_dead_letters,
            )
        for name, documentation, attribute in MEDIA_COUNTERS:
            family = CounterMetricFamily(name, documentation, labels=["kind"])
            for kind, counts in sorted(reading.media.items()):
                family.add_metric([kind], getattr(counts, attribute))
            yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class Metrics:
    """Every metric of one node, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._node = _NodeCollector()
        registry.register(self._node)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        Gauge(
            "livecommerce_build_info",
            "Always 1; the labels say which livecommerce and Python this node runs.",
            ["version", "python"],
            registry=registry,
        ).labels(__version__, platform.python_version()).set(1)

        # HTTP (every route, WHIP/WHEP and the channel's upgrade included).
        self.http = HttpRequests(
            Counter(
                "livecommerce_http_requests_total",
                "HTTP requests answered, by route template, method and status class.",
                ["route", "method", "status"],
                registry=registry,
            ),
            Histogram(
                "livecommerce_http_request_duration_seconds",
                "Time to answer an HTTP request, by route template and method.",
                ["route", "method"],
                buckets=HTTP_BUCKETS,
                registry=registry,
            ),
        )

        # Room channel (WebSocket).
        self.sockets_opened = Counter(
            "livecommerce_channel_sockets_opened_total",
            "Room channel WebSocket upgrades accepted.",
            registry=registry,
        )
        self.sockets_closed = LabelledCounter(
            Counter(
                "livecommerce_channel_sockets_closed_total",
                "Room channel sockets closed, by WebSocket close code.",
                ["code"],
                registry=registry,
            )
        )
        self.chat_messages = Counter(
            "livecommerce_chat_messages_total",
            "Chat messages stored and published through this node.",
            registry=registry,
        )
        self.chat_refused = LabelledCounter(
            Counter(
                "livecommerce_chat_refused_total",
                "Chat messages refused, by error code.",
                ["reason"],
                registry=registry,
            )
        )
        self.likes = Counter(
            "livecommerce_likes_total", "Likes received on this node.", registry=registry
        )

        # Moderation and commerce.
        self.moderation_actions = LabelledCounter(
            Counter(
                "livecommerce_moderation_actions_total",
                "Moderation actions applied, by action.",
                ["action"],
                registry=registry,
            )
        )
        self.buy_attempts = LabelledCounter(
            Counter(
                "livecommerce_buy_attempts_total",
                "Buys answered, by outcome: reserved, repeat, or the refusal reason.",
                ["outcome"],
                registry=registry,
            )
        )
        self.buy_seconds = Histogram(
            "livecommerce_buy_duration_seconds",
            "Time to answer a buy (reservation through the store), whatever the outcome.",
            buckets=BUY_BUCKETS,
            registry=registry,
        )
        self.orders_settled = LabelledCounter(
            Counter(
                "livecommerce_orders_settled_total",
                "Reservations settled, by the status they reached: paid, cancelled, expired.",
                ["status"],
                registry=registry,
            )
        )

        # Selling formats: vouchers, auctions, giveaways.
        self.format_actions = LabelledCounter(
            Counter(
                "livecommerce_format_actions_total",
                "Voucher claims, bids and giveaway entries answered, and formats closed, by "
                "outcome (claim_claimed, bid_leading, enter_entered, auction_sold, …).",
                ["outcome"],
                registry=registry,
            )
        )
        self.bid_seconds = Histogram(
            "livecommerce_bid_duration_seconds",
            "Time to answer a bid (through the store), whatever the outcome.",
            buckets=BUY_BUCKETS,
            registry=registry,
        )

        # Order hooks.
        self.hook_deliveries = HookCounter(
            Counter(
                "livecommerce_hook_deliveries_total",
                "Webhook delivery attempts, by endpoint id and result: delivered, retry, "
                "dead_letter, gone, parked.",
                ["endpoint", "result"],
                registry=registry,
            )
        )

        # Store.
        self.script_seconds = LabelledHistogram(
            Histogram(
                "livecommerce_store_script_duration_seconds",
                "Time of one Lua script call, by script.",
                ["script"],
                buckets=STORE_BUCKETS,
                registry=registry,
            )
        )
        self.pipeline_seconds = Histogram(
            "livecommerce_store_pipeline_duration_seconds",
            "Time of one pipeline of batched store calls (write, then every answer).",
            buckets=STORE_BUCKETS,
            registry=registry,
        )
        self.pipeline_calls = Counter(
            "livecommerce_store_pipeline_calls_total",
            "Store calls sent in pipelines (divided by the pipelines: the batch size).",
            registry=registry,
        )
        self.store_errors = LabelledCounter(
            Counter(
                "livecommerce_store_errors_total",
                "Store calls that failed (connection lost, timeout), by operation.",
                ["operation"],
                registry=registry,
            )
        )
        self.store_unavailable = LabelledCounter(
            Counter(
                "livecommerce_store_unavailable_total",
                "Requests answered 503 (http) and sockets closed 1013 (channel) because the "
                "store did not answer.",
                ["surface"],
                registry=registry,
            )
        )

        # Recordings (replays and live HLS).
        self.recordings_started = Counter(
            "livecommerce_recordings_started_total",
            "Recordings started (one per publication).",
            registry=registry,
        )
        self.recordings_stopped = LabelledCounter(
            Counter(
                "livecommerce_recordings_stopped_total",
                "Recordings that stopped before their publication ended, by reason: "
                "disk_cap, disk_full, write_failed, writer_behind, node_stopped.",
                ["reason"],
                registry=registry,
            )
        )

    def render(self, reading: NodeReading) -> bytes:
        """The Prometheus text exposition, with ``reading`` for the values read now."""
        self._node.reading = reading
        try:
            return generate_latest(self.registry)
        finally:
            self._node.reading = None
