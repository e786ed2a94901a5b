"""The entries that open a replay's timeline: what was on when the recording started,
each once, whether its event or the snapshot came first."""

from __future__ import annotations

from livecommerce.bus import Delivery
from livecommerce.replays.timeline import TimelineTap

PRODUCT = {"id": "p1", "title": "Tea"}


def sale(sale_id: str, status: str) -> dict[str, object]:
    return {"id": sale_id, "product_id": "p1", "status": status}


def test_the_pinned_product_and_started_sales_open_the_timeline_at_its_start() -> None:
    tap = TimelineTap("room", chat_max=10)
    sales = [sale("open", "open"), sale("gone", "sold_out"), sale("soon", "scheduled")]
    entries = tap.opening(1000, PRODUCT, sales)
    assert [(e["at"], e["type"]) for e in entries] == [
        (1000, "product_pinned"),
        (1000, "sale_started"),
        (1000, "sale_started"),
    ]
    assert [e["sale"]["id"] for e in entries[1:]] == ["open", "gone"]
    assert entries[0]["product"] == PRODUCT


def test_a_sale_started_event_after_the_snapshot_is_not_repeated() -> None:
    tap = TimelineTap("room", chat_max=10)
    tap.opening(1000, None, [sale("s1", "open")])
    tap.listener.on_event(Delivery({"type": "sale_started", "sale": sale("s1", "open")}))
    tap.listener.on_event(Delivery({"type": "sale_started", "sale": sale("s2", "open")}))
    assert [e["sale"]["id"] for e in tap.take()] == ["s2"]


def test_a_snapshot_after_the_events_adds_only_what_they_did_not_bring() -> None:
    tap = TimelineTap("room", chat_max=10)
    tap.listener.on_event(Delivery({"type": "sale_started", "sale": sale("s1", "open")}))
    tap.listener.on_event(Delivery({"type": "product_pinned", "product": PRODUCT}))
    entries = tap.opening(1000, PRODUCT, [sale("s1", "open"), sale("s2", "open")])
    assert [(e["type"], e["sale"]["id"]) for e in entries] == [("sale_started", "s2")]
    assert [e["type"] for e in tap.take()] == ["sale_started", "product_pinned"]
