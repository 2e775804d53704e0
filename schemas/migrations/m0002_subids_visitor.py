"""Sub-ids, the traffic source's own click id and the first-party visitor id on events; clicks and
conversions carry the sub-ids and ``external_id`` so conversions inherit them from their click.

Upgrades a database in place: columns are added with empty defaults (old rows read as ''), and the two
materialized views that copy click and conversion state are re-created with the new columns. Run it
with the aggregators stopped (as every migration): a view is briefly absent while it is re-created.
"""

from __future__ import annotations

from schemas.options import SchemaOptions

_SUB_IDS = ("sub1", "sub2", "sub3", "sub4", "sub5")
_INHERITED = (*_SUB_IDS, "external_id")


def _add(db: str, table: str, columns: tuple[str, ...], after: str) -> str:
    adds = []
    for name in columns:
        adds.append(f"ADD COLUMN IF NOT EXISTS {name} String DEFAULT '' AFTER {after}")
        after = name
    return f"ALTER TABLE {db}.{table} " + ", ".join(adds)


def statements(db: str, options: SchemaOptions) -> list[str]:
    inherited = ", ".join(_INHERITED)
    return [
        _add(db, "events", (*_INHERITED, "visitor_id"), after="epik"),
        _add(db, "clicks", (*_INHERITED, "visitor_id"), after="medium"),
        _add(db, "conversions", _INHERITED, after="medium"),
        f"DROP VIEW IF EXISTS {db}.clicks_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.clicks_mv TO {db}.clicks AS
SELECT click_id, ad_id, campaign_id, source, medium, {inherited}, visitor_id, received_at
FROM {db}.events
WHERE event_type = 'click' AND click_id != ''""",
        f"DROP VIEW IF EXISTS {db}.conversions_mv",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.conversions_mv TO {db}.conversions AS
SELECT network, conversion_key, txid, click_id, status, payout, currency,
    ad_id, campaign_id, source, medium, {inherited}, received_at, state_version
FROM {db}.events
WHERE state_version > 0""",
    ]
