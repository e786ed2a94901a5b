"""The CSV says what the JSON says, zeros included: a room that sold nothing has
`gmv_cents` 0 and `gpm_cents` 0 in both, and only a missing value (no currency yet)
is an empty cell."""

from __future__ import annotations

import csv
import io

from livecommerce.analytics.export import report_csv
from livecommerce.analytics.report import compose
from tests.unit.test_analytics_report import raw


def summary(report: dict[str, object]) -> dict[str, str]:
    rows = csv.reader(io.StringIO(report_csv(report)))
    return {row[3]: row[4] for row in rows if row[0] == "summary"}


def test_zeros_are_written_as_zeros_and_a_missing_currency_as_an_empty_cell() -> None:
    report = compose("r", raw())
    assert (report["gmv_cents"], report["gpm_cents"], report["peak_viewers"]) == (0, 0, 0)
    assert report["currency"] is None

    cells = summary(report)

    assert (cells["gmv_cents"], cells["gpm_cents"], cells["peak_viewers"]) == ("0", "0", "0")
    assert cells["currency"] == ""
