"""Offline-conversion import files for Google Ads and Microsoft Advertising (``GET /v1/exports/...``).

Approved conversions whose click carried the platform's click id, in each platform's documented file:

- Google Ads ("Import conversions from ad clicks", CSV template): a ``Parameters:TimeZone=+0000`` row,
  then ``Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency,Order ID``;
  times ``yyyy-MM-dd HH:mm:ss+00:00`` (UTC, with its offset). Google counts an (gclid, conversion
  name, time) once, so re-importing an overlapping period adds nothing.
- Microsoft Advertising (Bulk "Offline Conversion" record): the header ``Type,Status,Id,Parent Id,Client
  Id,Name,Conversion Currency Code,Conversion Name,Conversion Time,Conversion Value,Microsoft Click Id``,
  a ``Format Version`` row (6.0), then one ``Offline Conversion`` row each; Conversion Time in UTC as
  ``M/d/yyyy h:mm:ss AM``; the order id goes in ``Client Id``. Microsoft ignores a repeated (msclkid,
  conversion time).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from deliver.postback import money

PLATFORMS = {"google-ads": "gclid", "microsoft-ads": "msclkid"}


@dataclass(frozen=True)
class Exported:
    click_id: str  # the platform's (gclid or msclkid)
    converted_at: datetime
    value: Decimal
    currency: str
    order_id: str


def google_ads_csv(rows: Sequence[Exported], conversion_name: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Parameters:TimeZone=+0000"])
    writer.writerow(["Google Click ID", "Conversion Name", "Conversion Time", "Conversion Value",
                     "Conversion Currency", "Order ID"])  # fmt: skip
    for row in rows:
        at = row.converted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")
        writer.writerow([row.click_id, conversion_name, at, money(row.value), row.currency, row.order_id])
    return out.getvalue()


def _microsoft_time(value: datetime) -> str:
    at = value.astimezone(UTC)
    hour = at.hour % 12 or 12
    return f"{at.month}/{at.day}/{at.year} {hour}:{at:%M:%S} {'AM' if at.hour < 12 else 'PM'}"


def microsoft_ads_csv(rows: Sequence[Exported], conversion_name: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Type", "Status", "Id", "Parent Id", "Client Id", "Name", "Conversion Currency Code",
                     "Conversion Name", "Conversion Time", "Conversion Value", "Microsoft Click Id"])  # fmt: skip
    writer.writerow(["Format Version", "", "", "", "", "6.0", "", "", "", "", ""])
    for row in rows:
        writer.writerow(["Offline Conversion", "", "", "", row.order_id, "", row.currency, conversion_name,
                         _microsoft_time(row.converted_at), money(row.value), row.click_id])  # fmt: skip
    return out.getvalue()


def query(client: Any, db: str, platform: str, since: datetime, until: datetime, limit: int) -> list[Exported]:
    """Approved conversions first recorded in [since, until) whose click has the platform's click id."""
    column = PLATFORMS[platform]
    sql = (
        "SELECT s.4, s.1, s.2, s.3, at FROM ("  # noqa: S608 - db and column from fixed config
        "  SELECT argMax(tuple(payout, currency, txid, click_id, status), state_version) AS s, min(received_at) AS at"
        f"  FROM {db}.conversions GROUP BY network, conversion_key"
        ") WHERE s.5 = 'approved' AND s.4 != ''"
        " AND at >= {since:DateTime64(3, 'UTC')} AND at < {until:DateTime64(3, 'UTC')}"
        " ORDER BY at LIMIT {limit:UInt32}"
    )
    found = client.query(sql, parameters={"since": since, "until": until, "limit": limit}).result_rows
    click_ids = sorted({row[0] for row in found})
    if not click_ids:
        return []
    clicks_sql = (
        f"SELECT click_id, any({column}) FROM {db}.events "  # noqa: S608
        f"WHERE event_type = 'click' AND click_id IN {{ids:Array(String)}} AND {column} != '' GROUP BY click_id"
    )
    platform_ids = dict(client.query(clicks_sql, parameters={"ids": click_ids}).result_rows)
    return [
        Exported(platform_ids[click_id], at.replace(tzinfo=at.tzinfo or UTC), Decimal(payout), currency, txid)
        for click_id, payout, currency, txid, at in found
        if click_id in platform_ids
    ]
