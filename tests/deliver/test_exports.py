"""Import files in the formats Google Ads and Microsoft Advertising document."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from deliver.exports import Exported, google_ads_csv, microsoft_ads_csv

ROWS = [
    Exported("Cj0KCQ-abc", datetime(2026, 11, 23, 14, 5, 9, tzinfo=UTC), Decimal("12.50"), "EUR", "T-1"),
    Exported("f894f652ea334e739002f7167ab8f8e3", datetime(2026, 1, 2, 0, 30, 0, tzinfo=UTC), Decimal(3), "USD", "T,2"),
]


def test_google_ads_template() -> None:
    text = google_ads_csv(ROWS, "Purchase")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Parameters:TimeZone=+0000"]
    assert lines[1] == ["Google Click ID", "Conversion Name", "Conversion Time", "Conversion Value",
                        "Conversion Currency", "Order ID"]  # fmt: skip
    assert lines[2] == ["Cj0KCQ-abc", "Purchase", "2026-11-23 14:05:09+00:00", "12.5", "EUR", "T-1"]
    assert lines[3] == ["f894f652ea334e739002f7167ab8f8e3", "Purchase", "2026-01-02 00:30:00+00:00", "3", "USD", "T,2"]
    assert text.endswith("\r\n")


def test_microsoft_ads_bulk_offline_conversion_records() -> None:
    lines = list(csv.reader(io.StringIO(microsoft_ads_csv(ROWS, "My Goal"))))
    assert lines[0] == ["Type", "Status", "Id", "Parent Id", "Client Id", "Name", "Conversion Currency Code",
                        "Conversion Name", "Conversion Time", "Conversion Value", "Microsoft Click Id"]  # fmt: skip
    assert lines[1] == ["Format Version", "", "", "", "", "6.0", "", "", "", "", ""]
    assert lines[2] == ["Offline Conversion", "", "", "", "T-1", "", "EUR", "My Goal", "11/23/2026 2:05:09 PM",
                        "12.5", "Cj0KCQ-abc"]  # fmt: skip
    assert lines[3][8] == "1/2/2026 12:30:00 AM"
