"""The report as CSV: one long table, ``section,name,t,metric,value``, so every part of
the report (funnel, summary, series, products, markers) fits one file a spreadsheet or a
script reads the same way."""

from __future__ import annotations

import csv
import io
from typing import Any

HEADER = ("section", "name", "t", "metric", "value")
SUMMARY = ("peak_viewers", "gmv_cents", "currency", "gpm_cents")
# The report's click_through fields and their summary rows.
CLICK_THROUGH = {
    "rate": "click_through",
    "from_impressions": "entries_from_impressions",
    "direct": "direct_entries",
}
PRODUCT_METRICS = ("views", "attempts", "reserved", "paid", "gmv_cents")
FORMAT_STEPS = ("voucher_claims", "bids", "giveaway_entries")
SOURCE_METRICS = ("orders", "paid", "gmv_cents")
# Per-format rows: (section, the row's list in ``formats``, its id field, its metrics).
FORMAT_ROWS = (
    ("voucher", "vouchers", "voucher", ("quantity", "claimed", "claimers")),
    ("auction", "auctions", "auction", ("bids", "price_cents")),
    ("giveaway", "giveaways", "giveaway", ("entrants", "winners")),
)


def report_csv(report: dict[str, Any]) -> str:
    """CSV text of ``report`` (as :meth:`Analytics.report` gives it), header first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for step, counts in report["funnel"].items():
        writer.writerow(("funnel", step, "", "total", counts["total"]))
        writer.writerow(("funnel", step, "", "users", counts["users"]))
    for metric in SUMMARY:
        value = report[metric]
        writer.writerow(("summary", "", "", metric, "" if value is None else value))
    writer.writerow(("summary", "", "", "watch_avg_s", report["watch"]["avg_s"]))
    writer.writerow(("summary", "", "", "watch_median_s", report["watch"]["median_s"]))
    through = report.get("click_through")  # absent from reports frozen before it was kept
    if through:
        for metric in CLICK_THROUGH:
            writer.writerow(("summary", "", "", CLICK_THROUGH[metric], through[metric]))
    for row in report["retention"]:
        writer.writerow(("retention", "", row["t"], "viewers", row["viewers"]))
    for row in report["orders"]:
        writer.writerow(("orders", "", row["t"], "reserved", row["reserved"]))
        writer.writerow(("orders", "", row["t"], "paid", row["paid"]))
    for product in report["products"]:
        for metric in PRODUCT_METRICS:
            writer.writerow(("product", product["product"], "", metric, product[metric]))
    for mark in report["markers"]:
        writer.writerow(("marker", mark["type"], mark["t"], "product", mark["product"]))
    formats = report.get("formats")  # absent from reports frozen before the formats counted
    if formats:
        _formats(writer, formats)
    return out.getvalue()


def _formats(writer: Any, formats: dict[str, Any]) -> None:
    for step in FORMAT_STEPS:
        writer.writerow(("format", step, "", "total", formats[step]["total"]))
        writer.writerow(("format", step, "", "users", formats[step]["users"]))
    for row in formats["orders"]:
        for metric in SOURCE_METRICS:
            writer.writerow(("source", row["source"], "", metric, row[metric]))
    for section, rows, id_field, metrics in FORMAT_ROWS:
        for row in formats[rows]:
            for metric in metrics:
                writer.writerow((section, row[id_field], "", metric, row[metric]))
