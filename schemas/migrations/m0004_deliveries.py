"""Conversions delivered onward (issue 13): delivery state, the attempt log, dead letters, BI views.

- ``deliveries``: one row per delivery (target, conversion, status) and its latest state, keyed by the
  stable idempotency key; every change is a new row with a higher ``version`` (read with argMax).
  ``payload`` is the conversion as published (no secrets: requests are rendered at send time).
- ``delivery_log``: every attempt (target, URL without secrets, status code, latency, response excerpt).
- ``delivery_dead_letters``: deliveries given up, with the last error; ``adpulse redeliver`` re-queues.
- Views for BI: ``delivery_attempts`` (the log) and ``delivery_daily`` (per day and target).
"""

from __future__ import annotations

from schemas.options import SchemaOptions


def statements(db: str, options: SchemaOptions) -> list[str]:
    return [
        f"""
CREATE TABLE IF NOT EXISTS {db}.deliveries (
    key String,
    target LowCardinality(String),
    network String,
    conversion_key String,
    status LowCardinality(String),
    partition UInt16,
    state LowCardinality(String),
    attempts UInt32,
    first_attempt_at Nullable(DateTime64(3, 'UTC')),
    next_at DateTime64(3, 'UTC'),
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    last_error String,
    payload String,
    version UInt64
) ENGINE = ReplacingMergeTree(version) ORDER BY key""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.delivery_log (
    attempted_at DateTime64(3, 'UTC'),
    key String,
    target LowCardinality(String),
    network String,
    conversion_key String,
    status LowCardinality(String),
    attempt UInt32,
    method LowCardinality(String),
    url String,
    status_code Int32,
    latency_ms UInt32,
    outcome LowCardinality(String),
    error String,
    response_excerpt String
) ENGINE = MergeTree ORDER BY (target, attempted_at)
TTL toDateTime(attempted_at) + INTERVAL 400 DAY""",
        f"""
CREATE TABLE IF NOT EXISTS {db}.delivery_dead_letters (
    dead_at DateTime64(3, 'UTC'),
    key String,
    target LowCardinality(String),
    network String,
    conversion_key String,
    status LowCardinality(String),
    attempts UInt32,
    last_error String,
    payload String
) ENGINE = MergeTree ORDER BY (dead_at, key)""",
        f"""
CREATE OR REPLACE VIEW {db}.delivery_attempts AS
SELECT attempted_at, target, network, conversion_key, status, attempt, method, url, status_code,
    latency_ms, outcome, error, response_excerpt, key AS idempotency_key
FROM {db}.delivery_log""",
        f"""
CREATE OR REPLACE VIEW {db}.delivery_daily AS
SELECT toDate(attempted_at) AS day, target,
    countIf(outcome = 'sent') AS sent,
    countIf(outcome = 'retry') AS retried,
    countIf(outcome = 'dead') AS failed,
    count() AS attempts,
    quantile(0.5)(latency_ms) AS latency_ms_p50,
    quantile(0.95)(latency_ms) AS latency_ms_p95
FROM {db}.delivery_log
GROUP BY day, target""",
    ]
