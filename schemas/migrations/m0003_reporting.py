"""One reporting currency, sub-id reports and unique clicks: ``fx_rates``, the ``kpi_rollup``, and every KPI
view re-built on them (money converted when read).

- ``events.fx_date``: the day whose rate converts the row's money (an event's UTC day of ``occurred_at``;
  every row of one conversion carries its first day, so status changes and attribution moves net out
  exactly whatever the rates).
- ``clicks`` and ``conversions`` gain ``adset_id`` (inherited like the ad), ``conversions`` ``fx_date``.
- ``kpi_rollup`` (AggregatingMergeTree) replaces ``kpi_minute``: per 15-minute bucket, every reporting
  dimension and the money's currency and rate day: the counters, the amounts in their own currency and
  how many events carry money. Two views feed it from ``events``: counters and cost (in
  ``cost_currency``), and conversion money (in ``currency``). ``kpi_rollup_ads`` is the same without
  sub-ids, fed from ``kpi_rollup`` (a cascading view); reports that use no sub-id read it.
- ``kpi_visitors``: one row per (UTC day, ad, visitor), the visitor's first click of the day on the ad
  (ReplacingMergeTree keeping the earliest): ``count()`` under ``FINAL`` is ``unique_clicks``, exact and
  additive over rows.
- All three are back-filled from ``events`` here (idempotently: emptied first, their views created after).
- ``kpi_amounts`` / ``kpi_amounts_ads`` apply imported costs to the rollups (the replacement semantics of
  0001's ``kpi_facts``); ``kpi_facts`` and the KPI views read them through :mod:`schemas.reporting`,
  re-created on every ``migrate`` run (``every_run``) because they bake in the reporting currency and the
  rate max age.

Run with the aggregators stopped, as every migration.
"""

from __future__ import annotations

from schemas.options import SchemaOptions
from schemas.reporting import DIMENSIONS, Money, dimension_groups, money_rows, report

_DIMS = ("ad_id", "adset_id", "campaign_id", "source", "medium", "sub1", "sub2", "sub3", "sub4", "sub5")
_AD_DIMS = _DIMS[:5]
_D = ", ".join(_DIMS)
_AD = ", ".join(_AD_DIMS)
# A visitor: the first-party id, else the truncated IP and the user agent, else the event itself (a
# server-side click without any of them); hashed to 64 bits.
_VISITOR = (
    "sipHash64(if(visitor_id != '', visitor_id, "
    "if(client_ip = '' AND user_agent = '', toString(event_id), concat(client_ip, '|', user_agent))))"
)
_BUCKET = "toStartOfFifteenMinutes(received_at)"
_MEASURES = (
    "impressions, clicks, conversions, conversions_pending, cost, revenue, revenue_pending, cost_events, revenue_events"
)


def _rollup_cost_side(db: str) -> str:
    # Columns are qualified (e.) where an output alias has the same name: ClickHouse resolves aliases first.
    return f"""
SELECT {_BUCKET} AS bucket, {_D}, cost_currency AS currency, fx_date,
    sum(toInt64(e.impressions)) AS impressions, sum(toInt64(e.clicks)) AS clicks,
    sum(toInt64(e.conversions)) AS conversions, sum(toInt64(e.conversions_pending)) AS conversions_pending,
    sum(toDecimal128(e.cost, 6)) AS cost, toDecimal128(0, 6) AS revenue, toDecimal128(0, 6) AS revenue_pending,
    sum(toInt64(e.cost != 0)) AS cost_events, toInt64(0) AS revenue_events
FROM {db}.events AS e
GROUP BY bucket, {_D}, currency, fx_date"""


def _rollup_revenue_side(db: str) -> str:
    return f"""
SELECT {_BUCKET} AS bucket, {_D}, e.currency AS currency, fx_date,
    toInt64(0) AS impressions, toInt64(0) AS clicks, toInt64(0) AS conversions, toInt64(0) AS conversions_pending,
    toDecimal128(0, 6) AS cost, sum(toDecimal128(e.revenue, 6)) AS revenue,
    sum(toDecimal128(e.revenue_pending, 6)) AS revenue_pending,
    toInt64(0) AS cost_events,
    sum(toInt64(sign(e.revenue)) + toInt64(sign(e.revenue_pending))) AS revenue_events
FROM {db}.events AS e
WHERE e.revenue != 0 OR e.revenue_pending != 0
GROUP BY bucket, {_D}, currency, fx_date"""


def _rollup_ads(db: str) -> str:
    """The coarse rollup from the fine one (a cascading view: it sees each block the fine one receives)."""
    sums = ", ".join(f"sum(r.{m}) AS {m}" for m in _MEASURES.split(", "))
    return f"""
SELECT bucket, {_AD}, currency, fx_date, {sums}
FROM {db}.kpi_rollup AS r
GROUP BY bucket, {_AD}, currency, fx_date"""


def _visitors(db: str) -> str:
    """One row per (UTC day, ad, visitor): the visitor's first click of that day on that ad."""
    return f"""
SELECT toDate(received_at) AS utc_day, ad_id, {_VISITOR} AS visitor, {_BUCKET} AS bucket,
    {", ".join(d for d in _DIMS if d != "ad_id")},
    toUInt64(4102444800000 - toUnixTimestamp64Milli(received_at)) AS first_click
FROM {db}.events
WHERE clicks > 0"""


def _rollup_table(db: str, name: str, dims: tuple[str, ...]) -> str:
    dims_ddl = ",\n    ".join(f"{d} {DIMENSIONS[d]}" for d in dims)
    total = "SimpleAggregateFunction(sum, Int64)"
    money = "SimpleAggregateFunction(sum, Decimal(38, 6))"
    return f"""
CREATE TABLE IF NOT EXISTS {db}.{name} (
    bucket DateTime('UTC'),
    {dims_ddl},
    currency LowCardinality(String),
    fx_date Date,
    impressions {total},
    clicks {total},
    conversions {total},
    conversions_pending {total},
    cost {money},
    revenue {money},
    revenue_pending {money},
    cost_events {total},
    revenue_events {total}
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (bucket, {", ".join(dims)}, currency, fx_date)
SETTINGS non_replicated_deduplication_window = 1000"""


def _amounts(db: str, name: str, rollup: str, dims: tuple[str, ...]) -> str:
    """Imported cost replaces the events' cost of the ad's covered day or hour (as 0001's kpi_facts)."""
    cols = ", ".join(dims)
    imported = ", ".join(d if d in ("ad_id", "campaign_id", "source") else f"'' AS {d}" for d in dims)
    return f"""
CREATE OR REPLACE VIEW {db}.{name} AS
SELECT bucket, {cols}, currency, fx_date, impressions, clicks, conversions, conversions_pending,
    if(covered, toDecimal128(0, 6), cost) AS cost, revenue, revenue_pending,
    if(covered, toInt64(0), cost_events) AS cost_events, revenue_events
FROM (
    SELECT bucket, {cols}, currency, fx_date, {_MEASURES},
        cost_events != 0 AND (SELECT count() FROM {db}.cost_imports) > 0 AND (
            (ad_id, toStartOfDay(bucket)) IN (
                SELECT ad_id, period_start FROM {db}.cost_imports FINAL WHERE granularity = 'day')
            OR (ad_id, toStartOfHour(bucket)) IN (
                SELECT ad_id, period_start FROM {db}.cost_imports FINAL WHERE granularity = 'hour')) AS covered
    FROM {db}.{rollup}
)
UNION ALL
SELECT period_start AS bucket, {imported}, currency, toDate(period_start) AS fx_date,
    toInt64(0), toInt64(0), toInt64(0), toInt64(0), cost, toDecimal128(0, 6), toDecimal128(0, 6),
    toInt64(cost != 0), toInt64(0)
FROM {db}.cost_imports FINAL"""


def statements(db: str, options: SchemaOptions) -> list[str]:
    views = ("kpi_rollup_cost_mv", "kpi_rollup_revenue_mv", "kpi_rollup_ads_mv", "kpi_visitors_mv")
    other_dims = ",\n    ".join(f"{d} {DIMENSIONS[d]}" for d in _DIMS if d != "ad_id")
    return [
        f"ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS fx_date Date DEFAULT toDate(occurred_at) AFTER currency",
        f"ALTER TABLE {db}.clicks ADD COLUMN IF NOT EXISTS adset_id String DEFAULT '' AFTER ad_id",
        f"ALTER TABLE {db}.conversions ADD COLUMN IF NOT EXISTS adset_id String DEFAULT '' AFTER ad_id",
        f"ALTER TABLE {db}.conversions ADD COLUMN IF NOT EXISTS fx_date Date DEFAULT toDate(received_at) "
        "AFTER currency",
        f"DROP VIEW IF EXISTS {db}.clicks_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.clicks_mv TO {db}.clicks AS
SELECT click_id, ad_id, adset_id, campaign_id, source, medium, sub1, sub2, sub3, sub4, sub5, external_id,
    visitor_id, received_at
FROM {db}.events
WHERE event_type = 'click' AND click_id != ''""",
        f"DROP VIEW IF EXISTS {db}.conversions_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.conversions_mv TO {db}.conversions AS
SELECT network, conversion_key, txid, click_id, status, payout, currency, fx_date,
    ad_id, adset_id, campaign_id, source, medium, sub1, sub2, sub3, sub4, sub5, external_id,
    received_at, state_version
FROM {db}.events
WHERE state_version > 0""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.fx_rates (
    date Date,
    currency LowCardinality(String),
    rate Decimal(38, 12),
    source LowCardinality(String),
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (currency, date)""",
        *(f"DROP VIEW IF EXISTS {db}.{view}" for view in views),
        _rollup_table(db, "kpi_rollup", _DIMS),
        _rollup_table(db, "kpi_rollup_ads", _AD_DIMS),
        f"""
CREATE TABLE IF NOT EXISTS {db}.kpi_visitors (
    utc_day Date,
    ad_id String,
    visitor UInt64,
    bucket DateTime('UTC'),
    {other_dims},
    first_click UInt64
)
ENGINE = ReplacingMergeTree(first_click)
PARTITION BY toYYYYMM(utc_day)
ORDER BY (utc_day, ad_id, visitor)
SETTINGS non_replicated_deduplication_window = 1000""",
        # Back-fill from events (idempotent: emptied first; the feeding views do not exist at this point).
        *(f"TRUNCATE TABLE IF EXISTS {db}.{t}" for t in ("kpi_rollup", "kpi_rollup_ads", "kpi_visitors")),
        f"INSERT INTO {db}.kpi_rollup {_rollup_cost_side(db)}",
        f"INSERT INTO {db}.kpi_rollup {_rollup_revenue_side(db)}",
        f"INSERT INTO {db}.kpi_rollup_ads {_rollup_ads(db)}",
        f"INSERT INTO {db}.kpi_visitors {_visitors(db)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_cost_mv TO {db}.kpi_rollup AS {_rollup_cost_side(db)}",
        f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_revenue_mv TO {db}.kpi_rollup AS
{_rollup_revenue_side(db)}""",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_ads_mv TO {db}.kpi_rollup_ads AS {_rollup_ads(db)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_visitors_mv TO {db}.kpi_visitors AS {_visitors(db)}",
        _amounts(db, "kpi_amounts", "kpi_rollup", _DIMS),
        _amounts(db, "kpi_amounts_ads", "kpi_rollup_ads", _AD_DIMS),
        f"DROP VIEW IF EXISTS {db}.kpi_minute_mv",
        # kpi_facts (0001) read kpi_minute; it is re-created over kpi_amounts by every_run below, first
        # here so that nothing depends on kpi_minute when it goes (its rows are back-filled into kpi_rollup).
        *every_run(db, options),
        f"DROP TABLE IF EXISTS {db}.kpi_minute",
    ]


def every_run(db: str, options: SchemaOptions) -> list[str]:
    """The views that bake in settings (reporting currency, rate max age): re-created on every migrate."""
    money = Money(options.reporting_currency, options.fx_max_age_days)
    legacy = dimension_groups(["ad_id", "campaign_id", "source"])
    facts = [("bucket", "bucket"), *dimension_groups(_DIMS)]
    return [
        f"""
CREATE OR REPLACE VIEW {db}.kpi_facts AS
SELECT bucket, bucket AS minute, {_D}, x_impressions AS impressions, x_clicks AS clicks,
    x_conversions AS conversions, x_conversions_pending AS conversions_pending, x_cost AS cost,
    x_revenue AS revenue, x_revenue_pending AS revenue_pending, x_unconverted AS unconverted
FROM ({money_rows(db, facts, "1", money, _DIMS)})""",
        f"CREATE OR REPLACE VIEW {db}.ad_kpis AS {report(db, legacy, money)}",
        f"CREATE OR REPLACE VIEW {db}.campaign_kpis AS {report(db, dimension_groups(['campaign_id']), money)}",
        f"CREATE OR REPLACE VIEW {db}.source_kpis AS {report(db, dimension_groups(['source']), money)}",
        f"CREATE OR REPLACE VIEW {db}.ad_kpis_hourly AS "
        f"{report(db, [('hour', 'toStartOfHour(bucket)'), *legacy], money)}",
        f"CREATE OR REPLACE VIEW {db}.ad_kpis_daily AS {report(db, [('day', 'toDate(bucket)'), *legacy], money)}",
        f"""
CREATE OR REPLACE VIEW {db}.kpi_sub_ids_daily AS
{report(db, [("day", "toDate(bucket)"), *dimension_groups(["campaign_id", "source", *_DIMS[5:]])], money)}""",
    ]
