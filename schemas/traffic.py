"""Bot traffic in the rollups (issue 11): the rollup SELECTs that split human from bot traffic, shared by
migration 0006's views and ``adpulse reclassify`` (which rebuilds the rollups of a time range with them).

An ``events`` row keeps its raw counters (``impressions``, ``clicks``, ``cost``) and its ``bot_reason``;
the rollups count a bot row's impression, click and cost in ``bot_impressions``, ``bot_clicks`` and
``bot_cost`` instead of ``impressions``, ``clicks`` and ``cost``; ``kpi_visitors`` (unique clicks) keeps
human clicks only. ``bot_conversions`` exists for conversions attributed to a bot click.
"""

from __future__ import annotations

DIMS: tuple[str, ...] = ("ad_id", "adset_id", "campaign_id", "source", "medium", "sub1", "sub2", "sub3", "sub4", "sub5")
AD_DIMS = DIMS[:5]
# The visitor's traits (``ingest.enrich``), dimensions of ``kpi_rollup`` and ``kpi_visitors`` since migration
# 0007 (after ``sub5``); ``ALL_DIMS`` is the rollup's dimensions today (what ``adpulse reclassify`` rebuilds).
TRAITS: tuple[str, ...] = ("country", "device", "os", "browser")
ALL_DIMS: tuple[str, ...] = (*DIMS, *TRAITS)
BUCKET = "toStartOfFifteenMinutes(received_at)"
BOT_MEASURES: tuple[str, ...] = ("bot_impressions", "bot_clicks", "bot_cost", "bot_conversions")
MEASURES: tuple[str, ...] = (
    "impressions", "clicks", "conversions", "conversions_pending", "cost", "revenue", "revenue_pending",
    "cost_events", "revenue_events", *BOT_MEASURES,
)  # fmt: skip
# A visitor (as migration 0003): the first-party id, else the truncated IP and user agent, else the event.
VISITOR = (
    "sipHash64(if(visitor_id != '', visitor_id, "
    "if(client_ip = '' AND user_agent = '', toString(event_id), concat(client_ip, '|', user_agent))))"
)
HUMAN = "e.bot_reason = ''"


def rollup_cost_side(db: str, where: str = "1", dims: tuple[str, ...] = DIMS) -> str:
    """Counters and event cost per bucket, dimensions, cost currency and FX day, bots apart."""
    d = ", ".join(dims)
    return f"""
SELECT {BUCKET} AS bucket, {d}, cost_currency AS currency, fx_date,
    sum(if({HUMAN}, toInt64(e.impressions), 0)) AS impressions, sum(if({HUMAN}, toInt64(e.clicks), 0)) AS clicks,
    sum(toInt64(e.conversions)) AS conversions, sum(toInt64(e.conversions_pending)) AS conversions_pending,
    sum(if({HUMAN}, toDecimal128(e.cost, 6), toDecimal128(0, 6))) AS cost,
    toDecimal128(0, 6) AS revenue, toDecimal128(0, 6) AS revenue_pending,
    sum(toInt64(e.cost != 0 AND {HUMAN})) AS cost_events, toInt64(0) AS revenue_events,
    sum(if({HUMAN}, 0, toInt64(e.impressions))) AS bot_impressions,
    sum(if({HUMAN}, 0, toInt64(e.clicks))) AS bot_clicks,
    sum(if({HUMAN}, toDecimal128(0, 6), toDecimal128(e.cost, 6))) AS bot_cost,
    sum(if(e.bot_click = 1, toInt64(e.conversions), 0)) AS bot_conversions
FROM {db}.events AS e
WHERE {where}
GROUP BY bucket, {d}, currency, fx_date"""


def rollup_revenue_side(db: str, where: str = "1", dims: tuple[str, ...] = DIMS) -> str:
    """Conversion money (as migration 0003's revenue view; conversions are never bot-tagged)."""
    d = ", ".join(dims)
    return f"""
SELECT {BUCKET} AS bucket, {d}, e.currency AS currency, fx_date,
    toInt64(0) AS impressions, toInt64(0) AS clicks, toInt64(0) AS conversions, toInt64(0) AS conversions_pending,
    toDecimal128(0, 6) AS cost, sum(toDecimal128(e.revenue, 6)) AS revenue,
    sum(toDecimal128(e.revenue_pending, 6)) AS revenue_pending,
    toInt64(0) AS cost_events,
    sum(toInt64(sign(e.revenue)) + toInt64(sign(e.revenue_pending))) AS revenue_events,
    toInt64(0) AS bot_impressions, toInt64(0) AS bot_clicks, toDecimal128(0, 6) AS bot_cost,
    toInt64(0) AS bot_conversions
FROM {db}.events AS e
WHERE (e.revenue != 0 OR e.revenue_pending != 0) AND {where}
GROUP BY bucket, {d}, currency, fx_date"""


def rollup_ads(db: str, where: str = "1") -> str:
    """The coarse rollup (no sub-ids) from the fine one."""
    sums = ", ".join(f"sum(r.{m}) AS {m}" for m in MEASURES)
    a = ", ".join(AD_DIMS)
    return f"""
SELECT bucket, {a}, currency, fx_date, {sums}
FROM {db}.kpi_rollup AS r
WHERE {where}
GROUP BY bucket, {a}, currency, fx_date"""


def visitors(db: str, where: str = "1", dims: tuple[str, ...] = DIMS) -> str:
    """One row per (UTC day, ad, visitor): the visitor's first human click of that day on that ad."""
    return f"""
SELECT toDate(received_at) AS utc_day, ad_id, {VISITOR} AS visitor, {BUCKET} AS bucket,
    {", ".join(d for d in dims if d != "ad_id")},
    toUInt64(4102444800000 - toUnixTimestamp64Milli(received_at)) AS first_click
FROM {db}.events
WHERE clicks > 0 AND bot_reason = '' AND {where}"""


def amounts(db: str, name: str, rollup: str, dims: tuple[str, ...]) -> str:
    """Migration 0003's ``kpi_amounts`` (imported cost replaces the events' cost), with the bot measures."""
    cols = ", ".join(dims)
    imported = ", ".join(d if d in ("ad_id", "campaign_id", "source") else f"'' AS {d}" for d in dims)
    measures = ", ".join(MEASURES)
    return f"""
CREATE OR REPLACE VIEW {db}.{name} AS
SELECT bucket, {cols}, currency, fx_date, impressions, clicks, conversions, conversions_pending,
    if(covered, toDecimal128(0, 6), cost) AS cost, revenue, revenue_pending,
    if(covered, toInt64(0), cost_events) AS cost_events, revenue_events,
    bot_impressions, bot_clicks, if(covered, toDecimal128(0, 6), bot_cost) AS bot_cost, bot_conversions
FROM (
    SELECT bucket, {cols}, currency, fx_date, {measures},
        (cost_events != 0 OR bot_cost != 0) AND (SELECT count() FROM {db}.cost_imports) > 0 AND (
            (ad_id, toStartOfDay(bucket)) IN (
                SELECT ad_id, period_start FROM {db}.cost_imports FINAL WHERE granularity = 'day')
            OR (ad_id, toStartOfHour(bucket)) IN (
                SELECT ad_id, period_start FROM {db}.cost_imports FINAL WHERE granularity = 'hour')) AS covered
    FROM {db}.{rollup}
)
UNION ALL
SELECT period_start AS bucket, {imported}, currency, toDate(period_start) AS fx_date,
    toInt64(0), toInt64(0), toInt64(0), toInt64(0), cost, toDecimal128(0, 6), toDecimal128(0, 6),
    toInt64(cost != 0), toInt64(0), toInt64(0), toInt64(0), toDecimal128(0, 6), toInt64(0)
FROM {db}.cost_imports FINAL"""


def bot_columns_ddl() -> list[str]:
    total = "SimpleAggregateFunction(sum, Int64)"
    money = "SimpleAggregateFunction(sum, Decimal(38, 6))"
    return [f"ADD COLUMN IF NOT EXISTS {name} {money if name == 'bot_cost' else total}" for name in BOT_MEASURES]
