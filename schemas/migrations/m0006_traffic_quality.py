"""Traffic quality (issue 11): bot-tagged events, kept out of the KPIs by default.

- ``events.bot_reason`` ('' = human; see ``ingest.bots``) and ``events.bot_click`` (a conversion whose
  attributed click is bot-tagged; it still counts, and also in ``bot_conversions``).
- The pixel-hit views (migration 0005) re-created with ``bot_reason`` from ``ingest.bots.sql``, and again
  by ``migrate`` whenever these statements change (``every_run``, ``schemas.migrate``): the operator's
  block lists (``ADPULSE_BLOCK_IPS``, ``ADPULSE_BLOCK_USER_AGENTS``) are baked in as constants (a scalar
  subquery over a lists table made the embedded engine's streamed inserts fail silently; constants also
  let Hyperscan compile the patterns once).
- ``kpi_rollup`` / ``kpi_rollup_ads`` gain ``bot_impressions``, ``bot_clicks``, ``bot_cost`` and
  ``bot_conversions``; their feeding views and ``kpi_visitors``' are re-created to keep bots apart
  (``schemas.traffic``), and so are ``kpi_amounts`` / ``kpi_amounts_ads``. Past rows were all counted as
  human (nothing was classified before): ``adpulse reclassify`` tags them.
- ``every_run``: the KPI views again, with the bot measures.

Run with the aggregators stopped, as every migration: while the hit views are re-created (a changed list
or reporting setting), a hit batch inserted into the ``Null`` table ``hits_in`` is stored nowhere.
"""

from __future__ import annotations

from ingest import bots, hitsql
from schemas import traffic
from schemas.migrations import m0005_raw_hits as raw_hits
from schemas.options import SchemaOptions
from schemas.reporting import Money, dimension_groups, money_rows, report


def lists(options: SchemaOptions) -> bots.OperatorLists:
    return bots.OperatorLists(ips=options.block_ips, user_agents=options.block_user_agents)


def hit_statements(
    db: str, options: SchemaOptions, traits: tuple[tuple[str, str], ...] = (), bot_reason: str = ""
) -> list[str]:
    """The pixel-hit views with ``bot_reason``; migration 0007 adds its ``traits`` columns (and the
    ``datacenter`` rule over ``asn``: its own ``bot_reason`` expression)."""
    reason = bot_reason or bots.sql(lists(options), "ua", "client_ip")
    parsed = [*raw_hits._PARSED, *traits, ("bot_reason", reason)]
    select = ", ".join(f"{expr} AS {name}" for name, expr in parsed)
    source = hitsql.select(f"{db}.hits_in", honour_dnt="honour_dnt")
    names = ", ".join([*(name for name, _ in hitsql.EVENT_COLUMNS), *(name for name, _ in traits), "bot_reason"])
    return [
        f"DROP VIEW IF EXISTS {db}.hits_parse_mv",
        f"DROP VIEW IF EXISTS {db}.hits_events_mv",
        f"DROP VIEW IF EXISTS {db}.hits_rejects_mv",
        f"DROP TABLE IF EXISTS {db}.hits_parsed",
        f"CREATE TABLE IF NOT EXISTS {db}.hits_parsed ENGINE = Null AS SELECT {select} FROM ({source}) LIMIT 0",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_parse_mv TO {db}.hits_parsed AS "
        f"SELECT {select} FROM ({source})",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_events_mv TO {db}.events AS
SELECT {names}
FROM {db}.hits_parsed
WHERE reject_reason = '' AND NOT dropped AND event_id NOT IN (
    SELECT event_id FROM {db}.event_ids WHERE event_id IN (SELECT event_id FROM {db}.hits_parsed))
LIMIT 1 BY event_id""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_rejects_mv TO {db}.hit_rejects AS
SELECT event_id, endpoint, reject_field AS field, reject_reason AS reason, received_at, query
FROM {db}.hits_parsed
WHERE reject_reason != '' AND NOT dropped""",
    ]


def statements(db: str, options: SchemaOptions) -> list[str]:
    views = ("kpi_rollup_cost_mv", "kpi_rollup_ads_mv", "kpi_visitors_mv")
    columns = ",\n    ".join(traffic.bot_columns_ddl())
    return [
        f"ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS bot_reason LowCardinality(String) DEFAULT ''",
        f"ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS bot_click UInt8 DEFAULT 0",
        # The click lookup knows whether a click is a bot's; a conversion's state keeps its flag.
        f"ALTER TABLE {db}.clicks ADD COLUMN IF NOT EXISTS bot_reason LowCardinality(String) DEFAULT ''",
        f"ALTER TABLE {db}.conversions ADD COLUMN IF NOT EXISTS bot_click UInt8 DEFAULT 0",
        f"DROP VIEW IF EXISTS {db}.clicks_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.clicks_mv TO {db}.clicks AS
SELECT click_id, ad_id, adset_id, campaign_id, source, medium, sub1, sub2, sub3, sub4, sub5, external_id,
    visitor_id, received_at, bot_reason
FROM {db}.events
WHERE event_type = 'click' AND click_id != ''""",
        f"DROP VIEW IF EXISTS {db}.conversions_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.conversions_mv TO {db}.conversions AS
SELECT network, conversion_key, txid, click_id, status, payout, currency, fx_date,
    ad_id, adset_id, campaign_id, source, medium, sub1, sub2, sub3, sub4, sub5, external_id,
    received_at, state_version, bot_click
FROM {db}.events
WHERE state_version > 0""",
        *(f"DROP VIEW IF EXISTS {db}.{view}" for view in views),
        f"ALTER TABLE {db}.kpi_rollup\n    {columns}",
        f"ALTER TABLE {db}.kpi_rollup_ads\n    {columns}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_cost_mv TO {db}.kpi_rollup AS "
        f"{traffic.rollup_cost_side(db)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_rollup_ads_mv TO {db}.kpi_rollup_ads AS "
        f"{traffic.rollup_ads(db)}",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.kpi_visitors_mv TO {db}.kpi_visitors AS {traffic.visitors(db)}",
        traffic.amounts(db, "kpi_amounts", "kpi_rollup", traffic.DIMS),
        traffic.amounts(db, "kpi_amounts_ads", "kpi_rollup_ads", traffic.AD_DIMS),
        *every_run(db, options),
    ]


def every_run(db: str, options: SchemaOptions) -> list[str]:
    """Migration 0003's KPI views, re-created with the bot measures (after 0003's own ``every_run``)."""
    money = Money(options.reporting_currency, options.fx_max_age_days)
    legacy = dimension_groups(["ad_id", "campaign_id", "source"])
    facts = [("bucket", "bucket"), *dimension_groups(traffic.DIMS)]
    d = ", ".join(traffic.DIMS)
    sub_ids = [("day", "toDate(bucket)"), *dimension_groups(["campaign_id", "source", *traffic.DIMS[5:]])]
    return [
        *hit_statements(db, options),
        f"""
CREATE OR REPLACE VIEW {db}.kpi_facts AS
SELECT bucket, bucket AS minute, {d}, x_impressions AS impressions, x_clicks AS clicks,
    x_conversions AS conversions, x_conversions_pending AS conversions_pending, x_cost AS cost,
    x_revenue AS revenue, x_revenue_pending AS revenue_pending, x_unconverted AS unconverted,
    x_bot_impressions AS bot_impressions, x_bot_clicks AS bot_clicks, x_bot_conversions AS bot_conversions
FROM ({money_rows(db, facts, "1", money, traffic.DIMS, bots=True)})""",
        f"CREATE OR REPLACE VIEW {db}.ad_kpis AS {report(db, legacy, money, bots=True)}",
        f"CREATE OR REPLACE VIEW {db}.campaign_kpis AS "
        f"{report(db, dimension_groups(['campaign_id']), money, bots=True)}",
        f"CREATE OR REPLACE VIEW {db}.source_kpis AS {report(db, dimension_groups(['source']), money, bots=True)}",
        f"CREATE OR REPLACE VIEW {db}.ad_kpis_hourly AS "
        f"{report(db, [('hour', 'toStartOfHour(bucket)'), *legacy], money, bots=True)}",
        f"CREATE OR REPLACE VIEW {db}.ad_kpis_daily AS "
        f"{report(db, [('day', 'toDate(bucket)'), *legacy], money, bots=True)}",
        f"CREATE OR REPLACE VIEW {db}.kpi_sub_ids_daily AS {report(db, sub_ids, money, bots=True)}",
    ]
