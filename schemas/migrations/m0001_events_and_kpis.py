"""Raw events, dedup ids, conversion state, click lookup, per-minute KPI rollup and the KPI views.

Every row of ``events`` says what it adds to the KPIs (signed): a status change or a late attribution
is a row that moves conversions and revenue, so one INSERT per batch keeps every rollup exact.
"""

from __future__ import annotations

from schemas.options import SchemaOptions

# Ratios: summed numerators over summed denominators (never averaged), NULL when the denominator is 0.
# Money stays Decimal: Decimal / Int keeps the numerator's scale (6 decimals, truncated).
_KPI_RATIOS = """
    if(impressions = 0, NULL, clicks / impressions) AS ctr,
    if(clicks = 0, NULL, cost / clicks) AS cpc,
    if(impressions = 0, NULL, 1000 * cost / impressions) AS cpm,
    if(clicks = 0, NULL, conversions / clicks) AS cr,
    if(conversions = 0, NULL, cost / conversions) AS cpa,
    if(clicks = 0, NULL, revenue / clicks) AS epc,
    if(cost = 0, NULL, revenue / cost) AS roas,
    if(cost = 0, NULL, (revenue - cost) / cost) AS roi"""

# Inner sums get their own names: ClickHouse resolves aliases before columns, so "sum(x) AS x" next
# to another expression using x would nest aggregates.
_SUMS = """
        sum(impressions) AS s_impressions, sum(clicks) AS s_clicks,
        sum(conversions) AS s_conversions, sum(conversions_pending) AS s_conversions_pending,
        sum(cost) AS s_cost, sum(revenue) AS s_revenue, sum(revenue_pending) AS s_revenue_pending"""

_MEASURES = """
    s_impressions AS impressions, s_clicks AS clicks,
    s_conversions AS conversions, s_conversions + s_conversions_pending AS conversions_total,
    s_cost AS cost, s_revenue AS revenue, s_revenue + s_revenue_pending AS revenue_total,"""


def _kpi_view(db: str, name: str, dims: list[str], bucket: tuple[str, str] | None = None) -> str:
    """A KPI view over ``kpi_minute`` grouped by ``dims`` (and a time bucket: (name, expression))."""
    outer = ([bucket[0]] if bucket else []) + dims
    inner = ([f"{bucket[1]} AS {bucket[0]}"] if bucket else []) + dims
    return f"""
CREATE OR REPLACE VIEW {db}.{name} AS
SELECT {", ".join(outer)},{_MEASURES}{_KPI_RATIOS}
FROM (
    SELECT {", ".join(inner)},{_SUMS}
    FROM {db}.kpi_facts
    GROUP BY {", ".join(outer)}
)"""


def statements(db: str, options: SchemaOptions) -> list[str]:
    dims = ["ad_id", "campaign_id", "source"]
    return [
        f"""
CREATE TABLE IF NOT EXISTS {db}.events (
    event_id UUID,
    event_type LowCardinality(String),
    event_name LowCardinality(String),
    received_at DateTime64(3, 'UTC'),
    occurred_at DateTime64(3, 'UTC'),
    ad_id String,
    adset_id String,
    campaign_id String,
    source LowCardinality(String),
    medium LowCardinality(String),
    utm_campaign String,
    utm_term String,
    utm_content String,
    utm_id String,
    gclid String,
    gbraid String,
    wbraid String,
    fbclid String,
    msclkid String,
    ttclid String,
    twclid String,
    li_fat_id String,
    epik String,
    click_id String,
    network LowCardinality(String),
    txid String,
    conversion_key String,
    status LowCardinality(String),
    cost Decimal(18, 6),
    cost_currency LowCardinality(String),
    payout Decimal(18, 6),
    currency LowCardinality(String),
    url String,
    page_url String,
    referrer String,
    user_agent String,
    client_ip String,
    consent Nullable(Bool),
    impressions Int8,
    clicks Int8,
    conversions Int8,
    conversions_pending Int8,
    revenue Decimal(18, 6),
    revenue_pending Decimal(18, 6),
    state_version UInt32,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (event_type, ad_id, received_at, event_id)
TTL toDateTime(received_at) + INTERVAL {options.events_ttl_days} DAY
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.event_ids (
    event_id UUID,
    event_type LowCardinality(String),
    received_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY event_id
TTL toDateTime(received_at) + INTERVAL {options.dedup_window_days} DAY
    WHERE event_type IN ('impression', 'click', 'page_view')
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.event_ids_mv TO {db}.event_ids AS
SELECT event_id, event_type, received_at FROM {db}.events""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.conversions (
    network LowCardinality(String),
    conversion_key String,
    txid String,
    click_id String,
    status LowCardinality(String),
    payout Decimal(18, 6),
    currency LowCardinality(String),
    ad_id String,
    campaign_id String,
    source LowCardinality(String),
    medium LowCardinality(String),
    received_at DateTime64(3, 'UTC'),
    state_version UInt32,
    INDEX click_idx click_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(state_version)
ORDER BY (network, conversion_key)
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.conversions_mv TO {db}.conversions AS
SELECT network, conversion_key, txid, click_id, status, payout, currency,
    ad_id, campaign_id, source, medium, received_at, state_version
FROM {db}.events
WHERE state_version > 0""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.clicks (
    click_id String,
    ad_id String,
    campaign_id String,
    source LowCardinality(String),
    medium LowCardinality(String),
    received_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY click_id
TTL toDateTime(received_at) + INTERVAL {options.events_ttl_days} DAY
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.clicks_mv TO {db}.clicks AS
SELECT click_id, ad_id, campaign_id, source, medium, received_at
FROM {db}.events
WHERE event_type = 'click' AND click_id != ''""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.kpi_minute (
    ad_id String,
    campaign_id String,
    source LowCardinality(String),
    minute DateTime('UTC'),
    impressions Int64,
    clicks Int64,
    conversions Int64,
    conversions_pending Int64,
    cost Decimal(38, 6),
    revenue Decimal(38, 6),
    revenue_pending Decimal(38, 6)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (ad_id, campaign_id, source, minute)
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_minute_mv TO {db}.kpi_minute AS
SELECT ad_id, campaign_id, source, toStartOfMinute(received_at) AS minute,
    toInt64(impressions) AS impressions, toInt64(clicks) AS clicks,
    toInt64(conversions) AS conversions, toInt64(conversions_pending) AS conversions_pending,
    toDecimal128(cost, 6) AS cost, toDecimal128(revenue, 6) AS revenue,
    toDecimal128(revenue_pending, 6) AS revenue_pending
FROM {db}.events""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.cost_imports (
    ad_id String,
    campaign_id String,
    source LowCardinality(String),
    granularity Enum8('hour' = 1, 'day' = 2),
    period_start DateTime('UTC'),
    cost Decimal(38, 6),
    currency LowCardinality(String),
    imported_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY (ad_id, granularity, period_start)""",
        # Every KPI view reads kpi_facts: the per-minute rollup, whose event cost is replaced by the
        # imported cost wherever an import covers that ad and hour or day.
        f"""
CREATE OR REPLACE VIEW {db}.kpi_facts AS
SELECT ad_id, campaign_id, source, minute, impressions, clicks, conversions, conversions_pending,
    if(covered, toDecimal128(0, 6), cost) AS cost, revenue, revenue_pending
FROM (
    SELECT *,
        (ad_id, toStartOfDay(minute)) IN (
            SELECT ad_id, period_start FROM {db}.cost_imports FINAL WHERE granularity = 'day')
        OR (ad_id, toStartOfHour(minute)) IN (
            SELECT ad_id, period_start FROM {db}.cost_imports FINAL WHERE granularity = 'hour') AS covered
    FROM {db}.kpi_minute
)
UNION ALL
SELECT ad_id, campaign_id, source, period_start AS minute, toInt64(0), toInt64(0), toInt64(0), toInt64(0),
    cost, toDecimal128(0, 6), toDecimal128(0, 6)
FROM {db}.cost_imports FINAL""",
        # For BI users: events without what identifies a person (IP, user agent, page and referrer URLs).
        f"""
CREATE OR REPLACE VIEW {db}.events_anonymised AS
SELECT * EXCEPT (client_ip, user_agent, page_url, referrer) FROM {db}.events""",
        _kpi_view(db, "ad_kpis", dims),
        _kpi_view(db, "campaign_kpis", ["campaign_id"]),
        _kpi_view(db, "source_kpis", ["source"]),
        _kpi_view(db, "ad_kpis_hourly", dims, bucket=("hour", "toStartOfHour(minute)")),
        _kpi_view(db, "ad_kpis_daily", dims, bucket=("day", "toDate(minute)")),
    ]
