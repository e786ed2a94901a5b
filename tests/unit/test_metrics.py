"""The metrics module: names, registries of their own, values read at scrape time."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from livecommerce import __version__
from livecommerce.metrics import Metrics, NodeReading
from media.stats import KindTotals

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"


def scrape(metrics: Metrics, reading: NodeReading | None = None) -> dict[str, dict]:
    """``{family name: {"type", "help", "samples": {(name, labels): value}}}``."""
    text = metrics.render(reading or NodeReading()).decode()
    families = {}
    for family in text_string_to_metric_families(text):
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
        families[family.name] = {
            "type": family.type,
            "help": family.documentation,
            "samples": samples,
        }
    return families


def every_family(metrics: Metrics) -> dict[str, dict]:
    """Touch one child of each labelled metric so that every family shows samples."""
    metrics.sockets_closed.inc("1000")
    metrics.chat_refused.inc("muted")
    metrics.moderation_actions.inc("ban")
    metrics.buy_attempts.inc("reserved")
    metrics.orders_settled.inc("paid")
    metrics.hook_deliveries.inc("abc", "delivered")
    metrics.script_seconds.observe("chat_post", 0.001)
    metrics.store_errors.inc("script")
    metrics.store_unavailable.inc("http")
    metrics.http.observe("/api/rooms", "GET", 200, 0.002)
    media = {"video": KindTotals(frames_in=1)}
    reading = NodeReading(media=media, rooms_live=0, hook_backlog={"abc": 3}, hook_dead_letters=1)
    return scrape(metrics, reading)


# prometheus_client's standard collectors keep their own, well-known names.
STANDARD_PREFIXES = ("process_", "python_")


def test_every_metric_is_named_with_its_prefix_unit_and_help() -> None:
    families = every_family(Metrics())
    ours = {n: f for n, f in families.items() if not n.startswith(STANDARD_PREFIXES)}
    assert len(ours) == 36
    for name, family in ours.items():
        assert name.startswith("livecommerce_"), name
        assert family["help"], name
        assert re.fullmatch(r"[a-z_]+", name), name
        if family["type"] == "histogram":
            assert name.endswith("_seconds"), name
        if family["type"] == "counter":
            assert all(sample.endswith("_total") for sample, _ in family["samples"]), name


def test_docs_list_every_metric_and_nothing_else() -> None:
    families = every_family(Metrics())
    exposed = {
        name + "_total" if family["type"] == "counter" else name
        for name, family in families.items()
        if not name.startswith(STANDARD_PREFIXES)
    }
    documented = set(re.findall(r"^\| `(livecommerce_[a-z_]+)` \|", DOCS.read_text(), re.M))
    assert documented == exposed


def test_two_apps_count_apart() -> None:
    first, second = Metrics(), Metrics()
    first.chat_messages.inc()
    first.buy_attempts.inc("sold_out", 3)
    assert scrape(first)["livecommerce_chat_messages"]["samples"] == {
        ("livecommerce_chat_messages_total", ()): 1.0
    }
    assert scrape(second)["livecommerce_chat_messages"]["samples"] == {
        ("livecommerce_chat_messages_total", ()): 0.0
    }
    assert scrape(first)["livecommerce_buy_attempts"]["samples"] == {
        ("livecommerce_buy_attempts_total", (("outcome", "sold_out"),)): 3.0
    }
    assert scrape(second)["livecommerce_buy_attempts"]["samples"] == {}


def test_labelled_children_add_up_per_value() -> None:
    metrics = Metrics()
    for outcome in ("reserved", "reserved", "repeat", "reserved"):
        metrics.buy_attempts.inc(outcome)
    metrics.hook_deliveries.inc("ep1", "retry")
    metrics.hook_deliveries.inc("ep1", "retry")
    metrics.hook_deliveries.inc("ep2", "delivered")
    families = scrape(metrics)
    assert families["livecommerce_buy_attempts"]["samples"] == {
        ("livecommerce_buy_attempts_total", (("outcome", "repeat"),)): 1.0,
        ("livecommerce_buy_attempts_total", (("outcome", "reserved"),)): 3.0,
    }
    assert families["livecommerce_hook_deliveries"]["samples"] == {
        ("livecommerce_hook_deliveries_total", (("endpoint", "ep1"), ("result", "retry"))): 2.0,
        ("livecommerce_hook_deliveries_total", (("endpoint", "ep2"), ("result", "delivered"))): 1.0,
    }


def test_buy_latency_falls_in_its_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.0004, 0.003, 0.003, 0.15, 3.0):
        metrics.buy_seconds.observe(seconds)
    samples = scrape(metrics)["livecommerce_buy_duration_seconds"]["samples"]
    bucket = "livecommerce_buy_duration_seconds_bucket"
    assert samples[(bucket, (("le", "0.001"),))] == 1
    assert samples[(bucket, (("le", "0.005"),))] == 3
    assert samples[(bucket, (("le", "0.2"),))] == 4
    assert samples[(bucket, (("le", "2.0"),))] == 4
    assert samples[(bucket, (("le", "+Inf"),))] == 5
    assert samples[("livecommerce_buy_duration_seconds_count", ())] == 5
    assert abs(samples[("livecommerce_buy_duration_seconds_sum", ())] - 3.1564) < 1e-9


def test_values_read_at_scrape_time_are_shown_for_that_scrape_only() -> None:
    metrics = Metrics()
    reading = NodeReading(
        channel_sockets={"json": 2, "msgpack": 5},
        publications=2,
        pulls=1,
        media_viewers=5,
        media={
            "video": KindTotals(
                frames_in=100, frames_out=480, frames_dropped=20, keyframe_requests=3
            ),
            "audio": KindTotals(frames_in=250, bytes_in=25_000, frames_out=1250),
        },
        rooms_live=4,
    )
    families = scrape(metrics, reading)
    assert families["livecommerce_channel_sockets"]["samples"] == {
        ("livecommerce_channel_sockets", (("format", "json"),)): 2.0,
        ("livecommerce_channel_sockets", (("format", "msgpack"),)): 5.0,
    }
    assert families["livecommerce_media_publications"]["samples"] == {
        ("livecommerce_media_publications", ()): 2.0
    }
    assert families["livecommerce_media_pulls"]["samples"] == {
        ("livecommerce_media_pulls", ()): 1.0
    }
    assert families["livecommerce_media_viewers"]["samples"] == {
        ("livecommerce_media_viewers", ()): 5.0
    }
    assert families["livecommerce_rooms_live"]["samples"] == {("livecommerce_rooms_live", ()): 4.0}
    assert families["livecommerce_media_frames_forwarded"]["samples"] == {
        ("livecommerce_media_frames_forwarded_total", (("kind", "audio"),)): 1250.0,
        ("livecommerce_media_frames_forwarded_total", (("kind", "video"),)): 480.0,
    }
    assert families["livecommerce_media_frames_dropped"]["samples"] == {
        ("livecommerce_media_frames_dropped_total", (("kind", "audio"),)): 0.0,
        ("livecommerce_media_frames_dropped_total", (("kind", "video"),)): 20.0,
    }
    assert (
        families["livecommerce_media_received_bytes"]["samples"][
            ("livecommerce_media_received_bytes_total", (("kind", "audio"),))
        ]
        == 25_000.0
    )
    later = scrape(metrics, NodeReading())
    assert later["livecommerce_channel_sockets"]["samples"] == {}
    assert "livecommerce_rooms_live" not in later  # the store did not answer in time
    assert later["livecommerce_media_frames_forwarded"]["samples"] == {}


def test_no_created_series_beside_counters() -> None:
    metrics = Metrics()
    metrics.likes.inc(5)
    text = metrics.render(NodeReading()).decode()
    assert "livecommerce_likes_total 5.0" in text
    assert "_created" not in text


def test_the_process_and_platform_collectors_report_on_the_apps_own_registry() -> None:
    families = scrape(Metrics())
    for name in (
        "process_cpu_seconds",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
        "python_info",
    ):
        assert name in families, name
    assert (
        families["process_resident_memory_bytes"]["samples"][("process_resident_memory_bytes", ())]
        > 1_000_000
    )
    assert all(name.startswith((*STANDARD_PREFIXES, "livecommerce_")) for name in families)


def test_build_info_names_the_version_and_python() -> None:
    samples = scrape(Metrics())["livecommerce_build_info"]["samples"]
    labels = (("python", platform.python_version()), ("version", __version__))
    assert samples == {("livecommerce_build_info", labels): 1.0}


def test_http_requests_count_by_route_method_and_status_class() -> None:
    metrics = Metrics()
    metrics.http.observe("/api/rooms/{room}", "GET", 200, 0.003)
    metrics.http.observe("/api/rooms/{room}", "GET", 204, 0.02)
    metrics.http.observe("/api/rooms/{room}", "GET", 404, 0.001)
    metrics.http.observe("/ws/rooms/{room}", "GET", 101, None)
    families = scrape(metrics)
    assert families["livecommerce_http_requests"]["samples"] == {
        ("livecommerce_http_requests_total", labels): count
        for labels, count in [
            ((("method", "GET"), ("route", "/api/rooms/{room}"), ("status", "2xx")), 2.0),
            ((("method", "GET"), ("route", "/api/rooms/{room}"), ("status", "4xx")), 1.0),
            ((("method", "GET"), ("route", "/ws/rooms/{room}"), ("status", "1xx")), 1.0),
        ]
    }
    timed = families["livecommerce_http_request_duration_seconds"]["samples"]
    count = "livecommerce_http_request_duration_seconds_count"
    assert timed[(count, (("method", "GET"), ("route", "/api/rooms/{room}")))] == 3
    assert (count, (("method", "GET"), ("route", "/ws/rooms/{room}"))) not in timed
    bucket = "livecommerce_http_request_duration_seconds_bucket"
    labels = (("le", "0.005"), ("method", "GET"), ("route", "/api/rooms/{room}"))
    assert timed[(bucket, labels)] == 2


def test_hook_gauges_are_shown_when_read() -> None:
    metrics = Metrics()
    reading = NodeReading(hook_backlog={"ep2": 0, "ep1": 7}, hook_dead_letters=3)
    families = scrape(metrics, reading)
    assert families["livecommerce_hook_backlog"]["samples"] == {
        ("livecommerce_hook_backlog", (("endpoint", "ep1"),)): 7.0,
        ("livecommerce_hook_backlog", (("endpoint", "ep2"),)): 0.0,
    }
    assert families["livecommerce_hook_dead_letters"]["samples"] == {
        ("livecommerce_hook_dead_letters", ()): 3.0
    }
    later = scrape(metrics)
    assert "livecommerce_hook_backlog" not in later
    assert "livecommerce_hook_dead_letters" not in later  # the store did not answer in time


def test_the_grafana_dashboard_queries_only_metrics_a_node_exposes() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    metrics = Metrics()
    every_family(metrics)
    reading = NodeReading(
        channel_sockets={"json": 0, "msgpack": 0},
        media={"video": KindTotals(frames_in=1)},
        rooms_live=0,
        hook_backlog={"abc": 1},
        hook_dead_letters=0,
    )
    exposed = {
        sample[0] for family in scrape(metrics, reading).values() for sample in family["samples"]
    }
    queried: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            queried |= set(re.findall(r"\b(?:livecommerce|process)_\w+", target["expr"]))
    assert queried
    assert queried <= exposed, queried - exposed
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert len(titles) == len(set(titles))
    for wanted in ("livecommerce_channel_sockets", "livecommerce_buy_attempts_total"):
        assert wanted in queried
