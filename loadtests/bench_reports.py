"""Report latency on the embedded engine: 30 days of synthetic events through the real schema and views.

The events go into ``events`` by ``INSERT ... SELECT`` (so the materialized views fill ``kpi_rollup``
exactly as the aggregator's inserts do), then the reports ``GET /v1/kpis`` builds are timed on the
same engine (chdb, in this process, one core's worth): a 30-day report by campaign, by campaign and
sub1 in a time zone, by day, by ad with a filter, and the totals. ``make bench`` calls :func:`measure`
(JSON key ``reports``); run alone with ``python -m loadtests.bench_reports [--events N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import clickhouse_connect
import orjson

from app.kpi_request import parse, sql
from schemas.migrate import migrate
from schemas.reporting import Money

DB = "benchrep"
DAYS = 30
START = datetime(2026, 1, 1, tzinfo=UTC)
CHUNK = 2_000_000
REPORTS: dict[str, dict[str, str]] = {
    "campaign_30d": {"group_by": "campaign_id"},
    "campaign_sub1_30d_berlin": {"group_by": "campaign_id,sub1", "tz": "Europe/Berlin", "order_by": "-revenue"},
    "day_30d": {"group_by": "day"},
    "ad_30d_one_source": {"group_by": "ad_id", "source": "push"},
    "hour_7d_one_campaign": {"group_by": "hour", "campaign_id": "camp-3", "from": "2026-01-24"},
}

# 200 ads in 20 campaigns over 5 sources, 1,000 zones (sub1), 20 placements (sub2), 2M visitors;
# 90% impressions, 8% clicks, 2% conversions (paid in USD, EUR, JPY or GBP); costs in USD or EUR.
_EVENTS = f"""
INSERT INTO {DB}.events (event_id, event_type, received_at, occurred_at, fx_date, ad_id, campaign_id, source,
    medium, sub1, sub2, visitor_id, impressions, clicks, conversions, cost, cost_currency, revenue, currency)
SELECT generateUUIDv4(number) AS event_id,
    multiIf(r < 90, 'impression', r < 98, 'click', 'conversion') AS event_type,
    toDateTime64({{start:DateTime}} + intDiv(number * {DAYS * 86400}, {{total:UInt64}}), 3, 'UTC') AS received_at,
    received_at AS occurred_at, toDate(received_at) AS fx_date,
    concat('ad-', toString(ad)) AS ad_id, concat('camp-', toString(ad % 20)) AS campaign_id,
    ['google', 'facebook', 'tiktok', 'push', 'native'][ad % 5 + 1] AS source, 'cpc' AS medium,
    concat('zone-', toString(cityHash64(number, 2) % 1000)) AS sub1,
    concat('pl-', toString(cityHash64(number, 3) % 20)) AS sub2,
    toString(cityHash64(number, 4) % 2000000) AS visitor_id,
    toInt8(event_type = 'impression'), toInt8(event_type = 'click'), toInt8(event_type = 'conversion'),
    toDecimal64(if(event_type = 'conversion', 0, 0.002 + (r % 7) / 1000), 6) AS cost,
    if(ad % 2 = 0, 'USD', 'EUR') AS cost_currency,
    toDecimal64(if(event_type = 'conversion', 5 + r % 40, 0), 6) AS revenue,
    if(event_type = 'conversion', ['USD', 'EUR', 'JPY', 'GBP'][cityHash64(number, 5) % 4 + 1], '') AS currency
FROM (SELECT number, cityHash64(number, 1) % 100 AS r, cityHash64(number, 6) % 200 AS ad
      FROM numbers({{offset:UInt64}}, {{count:UInt64}}))"""


def _rates() -> list[list[Any]]:
    rows = []
    for day in range(DAYS):
        d = START.date() + timedelta(days=day)
        rows += [[d, "EUR", Decimal("1.08"), "bench"], [d, "JPY", Decimal("0.0067"), "bench"]]
    return rows  # no GBP: those conversions are counted in unconverted, as in real life before an import


def _timed(client: Any, text: str, params: dict[str, Any], repeat: int) -> tuple[float, float, int]:
    times = []
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = len(client.query(text, parameters=params).result_rows)
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times), rows


def measure(events: int = 20_000_000, repeat: int = 5, smoke: bool = False) -> dict[str, Any]:
    """Load ``events`` synthetic events over 30 days, then time each report (median and max of ``repeat``)."""
    if smoke:
        events, repeat = 200_000, 2
    client = clickhouse_connect.get_client(dsn=f"chdb://{tempfile.mkdtemp(prefix='adpulse-bench-reports-')}")
    try:
        migrate(client, DB)
        client.insert(f"{DB}.fx_rates", _rates(), column_names=["date", "currency", "rate", "source"])
        started = time.perf_counter()
        for offset in range(0, events, CHUNK):
            count = min(CHUNK, events - offset)
            client.command(_EVENTS, parameters={"start": START, "total": events, "offset": offset, "count": count})
        load_s = time.perf_counter() - started
        counts = {t: int(client.query(f"SELECT count() FROM {DB}.{t}").result_rows[0][0])
                  for t in ("kpi_rollup", "kpi_rollup_ads", "kpi_visitors")}  # fmt: skip
        to = (START.date() + timedelta(days=DAYS - 1)).isoformat()
        results: dict[str, Any] = {
            "engine": "chdb (embedded ClickHouse) in one process",
            "events": events,
            "days": DAYS,
            "rollup_rows": counts,
            "load_s": round(load_s, 1),
            "load_events_per_s": round(events / load_s),
        }
        money = Money()
        for name, params in REPORTS.items():
            req = parse({"from": START.date().isoformat(), "to": to, **params}, money.currency)
            rows_sql, totals_sql, bound = sql(DB, req, money)
            median, worst, rows = _timed(client, rows_sql, bound, repeat)
            t_median, _, _ = _timed(client, totals_sql, bound, repeat)
            results[name] = {"params": params, "rows": rows, "median_ms": round(median * 1000),
                             "max_ms": round(worst * 1000), "totals_median_ms": round(t_median * 1000)}  # fmt: skip
        return results
    finally:
        client.close()


def summary(r: dict[str, Any]) -> str:
    rows = ", ".join(f"{t} {n:,}" for t, n in r["rollup_rows"].items())
    lines = [f"reports over {r['events']:,} events / {r['days']} days (rows: {rows}; "
             f"loaded at {r['load_events_per_s']:,} events/s), {r['engine']}:"]  # fmt: skip
    for name in REPORTS:
        x = r[name]
        lines.append(f"  {name}: {x['rows']} rows, median {x['median_ms']} ms (max {x['max_ms']}), "
                     f"totals {x['totals_median_ms']} ms")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_reports", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    results = measure(args.events, args.repeat)
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
