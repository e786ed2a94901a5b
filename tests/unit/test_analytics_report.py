"""The report's arithmetic on what the store holds: per-product-and-slot fields summed
both ways, series from the start with gaps as zero, GPM, conversion without a zero
division, pins and sales on the time axis, and the CSV's shape."""

from __future__ import annotations

import csv
import io

from livecommerce.analytics.click_through import Clicked
from livecommerce.analytics.export import HEADER, report_csv
from livecommerce.analytics.formats import (
    FormatsData,
    format_markers,
    formats_report,
    source_rows,
)
from livecommerce.analytics.funnel import Step
from livecommerce.analytics.report import MAX_SLOTS, RoomData, compose, spread_slots

START_MS = 1_700_000_003_000  # 3 s into a 10 s slot
SLOT = START_MS // 10_000


def raw(**overrides: object) -> RoomData:
    fields: dict[str, object] = {
        "room": {"status": "live", "started_at": str(START_MS), "created_at": str(START_MS)},
        "counts": {},
        "users": {step: (0, True) for step in Step},
        "spans_ms": [],
        "counters": {},
        "pins": [],
        "sales": [],
        "products": {},
        "now_ms": START_MS + 25_000,
    }
    fields.update(overrides)
    return RoomData(**fields)  # type: ignore[arg-type]


def test_product_and_slot_fields_are_summed_per_product_and_per_slot() -> None:
    spread = spread_slots(
        {
            f"q:p_a:{SLOT}:reserved": 2,
            f"q:p_b:{SLOT}:reserved": 3,
            f"q:p_a:{SLOT + 1}:reserved": 1,
            f"q:p_a:{SLOT + 1}:paid": 1,
            "p:p_a:product_views": 7,
        }
    )

    assert spread["p:p_a:reserved"] == 3
    assert spread["p:p_b:reserved"] == 3
    assert spread[f"t:{SLOT}:reserved"] == 5
    assert spread[f"t:{SLOT + 1}:reserved"] == 1
    assert spread[f"t:{SLOT + 1}:paid"] == 1
    assert spread["p:p_a:product_views"] == 7
    assert not [name for name in spread if name.startswith("q:")]


def test_series_start_at_zero_and_fill_gaps() -> None:
    report = compose(
        "r",
        raw(counts=spread_slots({f"t:{SLOT + 2}:viewers": 4, f"q:p:{SLOT}:reserved": 1})),
    )

    assert report["retention"] == [
        {"t": 0, "viewers": 0},
        {"t": 10, "viewers": 0},
        {"t": 20, "viewers": 4},
    ]
    assert [row["reserved"] for row in report["orders"]] == [1, 0, 0]


def test_a_long_room_is_cut_at_a_day_of_slots() -> None:
    report = compose("r", raw(now_ms=START_MS + 3 * 86_400_000))

    assert len(report["retention"]) == MAX_SLOTS


def test_money_totals_and_conversion() -> None:
    users = {step: (0, True) for step in Step}
    users[Step.impressions] = (0, True)
    users[Step.entries] = (3, True)
    report = compose(
        "r",
        raw(
            counts={"entries": 4, "s:s_1:refused": 2},
            counters={"orders": 5, "paid_orders": 2, "gmv_cents:EUR": 1999, "gmv_cents:USD": 10},
            users=users,
        ),
    )

    assert report["funnel"]["buy_attempts"]["total"] == 7
    assert report["funnel"]["reserved"]["total"] == 5
    assert report["funnel"]["paid"]["total"] == 2
    assert (report["gmv_cents"], report["currency"]) == (1999, "EUR")
    assert report["gpm_cents"] == round(1999 * 1000 / 4)
    assert report["conversion"][0] == {"from": "impressions", "to": "entries", "rate": 0.0}


def test_pins_and_sales_are_marked_in_time_order() -> None:
    sales = [
        {
            "sale": "s_1",
            "product": "p_a",
            "starts_at": str(START_MS + 12_000),
            "ends_at": str(START_MS + 600_000),
            "stopped_at": str(START_MS + 20_000),
        },
        {
            "sale": "s_2",
            "product": "p_b",
            "starts_at": str(START_MS + 900_000),  # not started yet
            "ends_at": str(START_MS + 1_000_000),
            "stopped_at": "",
        },
    ]
    pins = [(f"pin:p_a:{START_MS + 5_000}", START_MS + 5_000)]

    report = compose("r", raw(pins=pins, sales=sales))

    assert [(m["type"], m["product"], m["t"]) for m in report["markers"]] == [
        ("pin", "p_a", 8.0),
        ("sale_started", "p_a", 15.0),
        ("sale_ended", "p_a", 23.0),
    ]


def test_the_csv_has_its_header_and_five_cells_a_row() -> None:
    report = compose("r", raw(products={"p_a": {"title": "Tea, green", "currency": "EUR"}}))

    rows = list(csv.reader(io.StringIO(report_csv(report))))

    assert tuple(rows[0]) == HEADER
    assert {len(row) for row in rows} == {5}
    assert ["product", "p_a", "", "views", "0"] in rows
    assert len([row for row in rows if row[0] == "funnel"]) == 2 * len(Step)


def test_orders_per_source_leave_the_rest_to_the_flash_sales() -> None:
    counters = {
        "orders": 10,
        "paid_orders": 9,  # the giveaway's three, paid when drawn, among them
        "gmv_cents:EUR": 5000,
        "gmv_cents:USD": 700,
        "source:auction:orders": 2,
        "source:auction:paid": 1,
        "source:auction:gmv_cents:EUR": 3000,
        "source:auction:gmv_cents:USD": 700,
        "source:giveaway:orders": 3,
        "source:giveaway:paid": 3,
        "source:replay:orders": 1,
        "source:replay:paid": 1,
        "source:replay:gmv_cents:EUR": 500,
        "source:studio:orders": 1,
    }

    rows = {row["source"]: row for row in source_rows(counters, "EUR")}

    assert list(rows) == ["sale", "auction", "giveaway", "replay", "studio"]
    assert {s: (r["orders"], r["paid"], r["gmv_cents"]) for s, r in rows.items()} == {
        "sale": (3, 4, 1500),
        "auction": (2, 1, 3000),
        "giveaway": (3, 3, 0),
        "replay": (1, 1, 500),
        "studio": (1, 0, 0),
    }
    assert {row["currency"] for row in rows.values()} == {"EUR"}
    empty = source_rows({}, None)
    assert [(r["source"], r["orders"], r["gmv_cents"]) for r in empty] == [
        ("sale", 0, 0),
        ("auction", 0, 0),
        ("giveaway", 0, 0),
        ("replay", 0, 0),
    ]


def test_the_formats_rows_and_markers_come_from_their_records() -> None:
    data = FormatsData(
        users={"voucher_claims": (3, True), "bids": (9000, False)},
        vouchers=[
            {
                "id": "v_1",
                "title": "3 off",
                "quantity": "5",
                "claimed": "3",
                "claimers": "3",
                "dropped_at": str(START_MS + 1000),
            }
        ],
        auctions=[
            {
                "id": "a_1",
                "product_id": "p_a",
                "title": "Lot",
                "bids": "4",
                "price": "700",
                "currency": "EUR",
                "starts_at": str(START_MS),
                "ended_at": str(START_MS + 99_000),
            }
        ],
        giveaways=[
            {
                "id": "g_1",
                "title": "Tea",
                "entrants": "7",
                "winners": '["u1","u2"]',
                "created_at": str(START_MS + 2000),
            }
        ],
    )
    counters = {"voucher_claims": 3, "bids": 9100, "giveaway_entries": 7}

    formats = formats_report(data, counters, "EUR")
    marks = format_markers(data, START_MS, START_MS + 50_000)

    assert formats["voucher_claims"] == {"total": 3, "users": 3, "users_exact": True}
    assert formats["bids"] == {"total": 9100, "users": 9000, "users_exact": False}
    assert formats["giveaway_entries"] == {"total": 7, "users": 0, "users_exact": True}
    assert formats["vouchers"][0]["claimers"] == 3
    assert formats["auctions"][0]["price_cents"] == 700
    assert formats["giveaways"][0]["winners"] == 2
    # The auction's end is after "now": not marked yet; nor a giveaway not closed.
    assert [(m["type"], m["t"]) for m in marks] == [
        ("voucher_dropped", 1.0),
        ("auction_started", 0.0),
        ("giveaway_started", 2.0),
    ]


def test_the_buy_steps_leave_the_other_sources_out_and_never_convert_above_one() -> None:
    users = {step: (0, True) for step in Step}
    # Past the exact sets the attempts' visitors are an estimate (here below the exact
    # reservers): the rate is capped, the counts are shown as they are.
    users[Step.buy_attempts] = (1980, False)
    users[Step.reserved] = (2000, True)
    users[Step.paid] = (2000, False)
    counters = {
        "orders": 2010,
        "paid_orders": 2004,
        "source:auction:orders": 3,
        "source:auction:paid": 2,
        "source:giveaway:orders": 2,
        "source:giveaway:paid": 2,
        "source:replay:orders": 5,
    }

    report = compose("r", raw(counters=counters, users=users))

    funnel = report["funnel"]
    assert (funnel["reserved"]["total"], funnel["paid"]["total"]) == (2000, 2000)
    assert funnel["buy_attempts"]["total"] == 2000
    sale_row = next(r for r in report["formats"]["orders"] if r["source"] == "sale")
    assert (sale_row["orders"], sale_row["paid"]) == (2000, 2000)
    rates = {(c["from"], c["to"]): c["rate"] for c in report["conversion"]}
    assert rates[("buy_attempts", "reserved")] == 1.0
    assert rates[("reserved", "paid")] == 1.0


def test_sales_of_an_ended_room_are_marked_ended_by_its_end_at_the_latest() -> None:
    # A room ended before its sales' planned ends (as a store written before ending a
    # room stopped its sales holds it): nothing is marked after the end.
    ended = START_MS + 30_000
    room = {"status": "ended", "started_at": str(START_MS), "ended_at": str(ended)}
    sales = [
        {
            "sale": "s_1",
            "product": "p_a",
            "starts_at": str(START_MS + 12_000),
            "ends_at": str(START_MS + 600_000),
            "stopped_at": "",
        },
        {
            "sale": "s_2",
            "product": "p_b",
            "starts_at": str(START_MS + 60_000),  # planned after the end: never opened
            "ends_at": str(START_MS + 120_000),
            "stopped_at": "",
        },
    ]
    pins = [(f"pin:p_a:{START_MS + 5_000}", START_MS + 5_000)]

    report = compose("r", raw(room=room, pins=pins, sales=sales, now_ms=START_MS + 900_000))

    assert [(m["type"], m["at"]) for m in report["markers"]] == [
        ("pin", START_MS + 5_000),
        ("sale_started", START_MS + 12_000),
        ("sale_ended", ended),
    ]


def test_click_through_is_a_share_of_the_impressions_with_direct_entries_apart() -> None:
    users = {step: (0, True) for step in Step}
    users[Step.impressions] = (3, True)
    users[Step.entries] = (4, True)

    report = compose("r", raw(users=users, clicked=Clicked(2, True)))

    assert report["click_through"] == {
        "impressions": 3,
        "entries": 4,
        "from_impressions": 2,
        "direct": 2,
        "rate": 0.6667,
        "exact": True,
    }
    assert report["conversion"][0]["rate"] == 0.6667
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    summary = {r[3]: r[4] for r in rows if r[0] == "summary"}
    assert summary["click_through"] == "0.6667"
    assert (summary["entries_from_impressions"], summary["direct_entries"]) == ("2", "2")
