"""Raw pixel hits parsed by ClickHouse: the aggregator inserts Kafka's hit messages as they are.

    hits_in (Null)  --hits_parse_mv-->  hits_parsed (Null)  --hits_events_mv-->   events
                                                            --hits_rejects_mv-->  hit_rejects

- ``hits_in`` has the hit line's columns (``schemas.hits.STRUCTURE``); ``honour_dnt`` defaults to 1.
  An aggregator run with ``ADPULSE_HONOUR_DNT=false`` inserts into ``hits_in_dnt_off`` instead, which
  forwards with ``honour_dnt = 0``. Null tables store nothing: one INSERT of a batch's hits runs the
  parse once (``ingest.hitsql``, the SQL twin of the Python ingest rules) and both views.
- ``hits_events_mv`` keeps the valid hits that are not ``dnt=1``, once per event id: within the insert
  (``LIMIT 1 BY``) and against every id already stored (``event_ids``, looked up set-wise for the ids
  of the inserted block only). A resend of a hit (same ``eid``) or the publisher's re-send of the same
  hit (same ``event_id``) therefore counts once.
- ``hit_rejects`` holds the hits that broke a rule, with the field and the reason (the rejects topic's
  record, kept 7 days); a re-sent reject collapses on its event id.

Run with the aggregators stopped, as every migration.
"""

from __future__ import annotations

from ingest import hitsql
from schemas.hits import STRUCTURE
from schemas.options import SchemaOptions

_PARSED = (
    *((name, expr) for name, expr in hitsql.EVENT_COLUMNS),
    ("reject_field", "reject.1"),
    ("reject_reason", "reject.2"),
    ("dropped", "dropped"),
    ("endpoint", "endpoint"),
    ("query", "substring(query, 1, 2048)"),
)


def statements(db: str, options: SchemaOptions) -> list[str]:
    hit_columns = ", ".join(f"{name} {kind}" for name, kind in STRUCTURE)
    event_names = ", ".join(name for name, _ in hitsql.EVENT_COLUMNS)
    return [
        f"CREATE TABLE IF NOT EXISTS {db}.hits_in ({hit_columns}, honour_dnt UInt8 DEFAULT 1) ENGINE = Null",
        f"CREATE TABLE IF NOT EXISTS {db}.hits_in_dnt_off ({hit_columns}) ENGINE = Null",
        f"""
CREATE TABLE IF NOT EXISTS {db}.hits_parsed ENGINE = Null AS
SELECT {", ".join(f"{expr} AS {name}" for name, expr in _PARSED)}
FROM ({hitsql.select(f"{db}.hits_in", honour_dnt="honour_dnt")}) LIMIT 0""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.hit_rejects (
    event_id UUID,
    endpoint LowCardinality(String),
    field String,
    reason String,
    received_at DateTime64(3, 'UTC'),
    query String,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY event_id
TTL toDateTime(inserted_at) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 1000""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_parse_mv TO {db}.hits_parsed AS
SELECT {", ".join(f"{expr} AS {name}" for name, expr in _PARSED)}
FROM ({hitsql.select(f"{db}.hits_in", honour_dnt="honour_dnt")})""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_dnt_off_mv TO {db}.hits_in AS
SELECT *, toUInt8(0) AS honour_dnt FROM {db}.hits_in_dnt_off""",
        f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.hits_events_mv TO {db}.events AS
SELECT {event_names}
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
