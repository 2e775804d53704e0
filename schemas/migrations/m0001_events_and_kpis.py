"""Raw events, the per-minute KPI rollup fed by a materialized view, the click lookup and KPI views."""

from __future__ import annotations

# Ratios are computed from summed numerators and denominators (never averaged) and are NULL when
# the denominator is 0. Money stays Decimal: Decimal / Int keeps the numerator's scale.
_KPI_RATIOS = """
    if(impressions = 0, NULL, clicks / impressions) AS ctr,
    if(clicks = 0, NULL, cost / clicks) AS cpc,
    if(impressions = 0, NULL, 1000 * cost / impressions) AS cpm,
    if(clicks = 0, NULL, conversions / clicks) AS cr,
    if(conversions = 0, NULL, cost / conversions) AS cpa,
    if(clicks = 0, NULL, revenue / clicks) AS epc,
    if(cost = 0, NULL, revenue / cost) AS roas,
    if(cost = 0, NULL, (revenue - cost) / cost) AS roi"""


def _kpi_view(db: str, name: str, dims: list[str]) -> str:
    dim_list = ", ".join(dims)
    return f"""
CREATE OR REPLACE VIEW {db}.{name} AS
SELECT {dim_list}, impressions, clicks, conversions, cost, revenue,{_KPI_RATIOS}
FROM (
    SELECT {dim_list},
        sum(impressions) AS impressions, sum(clicks) AS clicks, sum(conversions) AS conversions,
        sum(cost) AS cost, sum(revenue) AS revenue
    FROM {db}.kpi_minute
    GROUP BY {dim_list}
)"""


def statements(db: str) -> list[str]:
    return [
        f"""
CREATE TABLE IF NOT EXISTS {db}.events (
    event_id UUID,
    event_type LowCardinality(String),
    received_at DateTime64(3, 'UTC'),
    ad_id String,
    campaign_id String,
    source LowCardinality(String),
    medium LowCardinality(String),
    utm_campaign String,
    utm_term String,
    utm_content String,
    utm_id String,
    click_id String,
    cost Decimal(18, 6),
    payout Decimal(18, 6),
    currency LowCardinality(String),
    txid String,
    status LowCardinality(String),
    url String,
    impressions Int8,
    clicks Int8,
    conversions Int8,
    revenue Decimal(18, 6),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (event_type, ad_id, received_at, event_id)
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.kpi_minute (
    ad_id String,
    campaign_id String,
    source LowCardinality(String),
    minute DateTime('UTC'),
    impressions Int64,
    clicks Int64,
    conversions Int64,
    cost Decimal(38, 6),
    revenue Decimal(38, 6)
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (ad_id, campaign_id, source, minute)
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_minute_mv TO {db}.kpi_minute AS
SELECT ad_id, campaign_id, source, toStartOfMinute(received_at) AS minute,
    toInt64(impressions) AS impressions, toInt64(clicks) AS clicks, toInt64(conversions) AS conversions,
    toDecimal128(cost, 6) AS cost, toDecimal128(revenue, 6) AS revenue
FROM {db}.events""",
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
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.clicks_mv TO {db}.clicks AS
SELECT click_id, ad_id, campaign_id, source, medium, received_at
FROM {db}.events
WHERE event_type = 'click' AND click_id != ''""",
        _kpi_view(db, "ad_kpis", ["ad_id", "campaign_id", "source"]),
        _kpi_view(db, "campaign_kpis", ["campaign_id"]),
        _kpi_view(db, "source_kpis", ["source"]),
    ]
