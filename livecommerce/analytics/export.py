"""The report as CSV: one long table, ``section,name,t,metric,value``, so every part of
the report (funnel, summary, series, products, markers) fits one file a spreadsheet or a
script reads the same way."""

from __future__ import annotations

import csv
import io
from typing import Any

HEADER = ("section", "name", "t", "metric", "value")
SUMMARY = ("peak_viewers", "gmv_cents", "currency", "gpm_cents")
PRODUCT_METRICS = ("views", "attempts", "reserved", "paid", "gmv_cents")


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
    return out.getvalue()
