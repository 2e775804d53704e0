"""Enrichment (issue 11): device, OS, browser, country and ASN on events, and the traits as report dimensions.

- ``events`` gains ``device``, ``os``, ``browser``, ``country`` (``LowCardinality(String)``) and ``asn``
  (``UInt32``): what the API computed for the request (``ingest.enrich``); empty / 0 when unknown, on
  server-side events and on everything stored before this migration.
- ``clicks`` and ``conversions`` gain the four traits: a conversion inherits its click's (as the ad and the
  sub-ids), so revenue splits by country and device too.
- ``hits_in`` / ``hits_in_dnt_off`` gain the traits and ``asn`` (the raw hit carries them); the pixel-hit
  views copy them, and ``bot_reason`` gains the ``datacenter`` rule over ``asn`` (``every_run``).
- ``kpi_rollup`` and ``kpi_visitors`` gain ``country``, ``device``, ``os`` and ``browser`` as dimensions
  (after ``sub5``; appended to the end of the rollup's sorting key, which ClickHouse allows for columns added in the
  same ALTER); their feeding views and ``kpi_amounts`` are re-created with them. ``kpi_rollup_ads`` (the
  coarse rollup) is unchanged: reports by a trait read the fine rollup. Past rollup rows keep empty traits.
- ``every_run``: the hit views again (operator lists baked in), and ``kpi_facts`` with the traits.

Run with the aggregators stopped, as every migration.
"""

from __future__ import annotations

from ingest import bots, hitsql
from schemas import traffic
from schemas.migrations import m0006_traffic_quality as quality
from schemas.options import SchemaOptions
from schemas.reporting import DIMENSIONS, Money, dimension_groups, money_rows

_TEXT = "LowCardinality(String)"


def _add(db: str, table: str, columns: list[tuple[str, str]], after: str | None = None) -> str:
    position = f" AFTER {after}" if after else ""
    adds = []
    for name, kind in columns:
        adds.append(f"ADD COLUMN IF NOT EXISTS {name} {kind}{position}")
        if after:
            after, position = name, f" AFTER {name}"
    return f"ALTER TABLE {db}.{table} " + ", ".join(adds)


def statements(db: str, options: SchemaOptions) -> list[str]:
    traits = [(name, _TEXT) for name in traffic.TRAITS]
    raw = [(name, "String") for name in traffic.TRAITS] + [("asn", "UInt32")]
    rollup_dims = [(name, DIMENSIONS[name]) for name in traffic.TRAITS]
    key = ", ".join(("bucket", *traffic.DIMS, "currency", "fx_date", *traffic.TRAITS))
    all_dims = traffic.ALL_DIMS
    t = ", ".join(traffic.TRAITS)
    views = ("kpi_rollup_cost_mv", "kpi_rollup_revenue_mv", "kpi_visitors_mv")
    return [
        _add(db, "events", [*traits, ("asn", "UInt32")]),
        _add(db, "clicks", traits),
        _add(db, "conversions", traits),
        _add(db, "hits_in", raw),
        _add(db, "hits_in_dnt_off", raw),
        f"DROP VIEW IF EXISTS {db}.hits_dnt_off_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_dnt_off_mv TO {db}.hits_in AS
SELECT *, toUInt8(0) AS honour_dnt FROM {db}.hits_in_dnt_off""",
        f"DROP VIEW IF EXISTS {db}.clicks_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.clicks_mv TO {db}.clicks AS
SELECT click_id, ad_id, adset_id, campaign_id, source, medium, sub1, sub2, sub3, sub4, sub5, external_id,
    visitor_id, received_at, bot_reason, {t}
FROM {db}.events
WHERE event_type = 'click' AND click_id != ''""",
        f"DROP VIEW IF EXISTS {db}.conversions_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.conversions_mv TO {db}.conversions AS
SELECT network, conversion_key, txid, click_id, status, payout, currency, fx_date,
    ad_id, adset_id, campaign_id, source, medium, sub1, sub2, sub3, sub4, sub5, external_id,
    received_at, state_version, bot_click, {t}
FROM {db}.events
WHERE state_version > 0""",
        *(f"DROP VIEW IF EXISTS {db}.{view}" for view in views),
        _add(db, "kpi_rollup", rollup_dims, after="sub5") + f", MODIFY ORDER BY ({key})",
        _add(db, "kpi_visitors", rollup_dims, after="sub5"),
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_cost_mv TO {db}.kpi_rollup AS "
        f"{traffic.rollup_cost_side(db, dims=all_dims)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_revenue_mv TO {db}.kpi_rollup AS "
        f"{traffic.rollup_revenue_side(db, dims=all_dims)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_visitors_mv TO {db}.kpi_visitors AS "
        f"{traffic.visitors(db, dims=all_dims)}",
        traffic.amounts(db, "kpi_amounts", "kpi_rollup", all_dims),
        *every_run(db, options),
    ]


def every_run(db: str, options: SchemaOptions) -> list[str]:
    """The pixel-hit views with the traits and the datacenter rule; ``kpi_facts`` with the traits."""
    lists = bots.OperatorLists(
        ips=options.block_ips, user_agents=options.block_user_agents, asns=options.datacenter_asns
    )
    reason = bots.sql(lists, "ua", "client_ip", "asn")
    money = Money(options.reporting_currency, options.fx_max_age_days)
    facts = [("bucket", "bucket"), *dimension_groups(traffic.ALL_DIMS)]
    d = ", ".join(traffic.ALL_DIMS)
    return [
        *quality.hit_statements(db, options, hitsql.TRAIT_COLUMNS, reason),
        f"""
CREATE OR REPLACE VIEW {db}.kpi_facts AS
SELECT bucket, bucket AS minute, {d}, x_impressions AS impressions, x_clicks AS clicks,
    x_conversions AS conversions, x_conversions_pending AS conversions_pending, x_cost AS cost,
    x_revenue AS revenue, x_revenue_pending AS revenue_pending, x_unconverted AS unconverted,
    x_bot_impressions AS bot_impressions, x_bot_clicks AS bot_clicks, x_bot_conversions AS bot_conversions
FROM ({money_rows(db, facts, "1", money, traffic.ALL_DIMS, bots=True)})""",
    ]
