"""Prometheus metrics of the aggregator."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

BATCH_ROWS = Histogram(
    "adpulse_aggregator_batch_rows", "Rows per ClickHouse insert", buckets=(1, 10, 100, 1_000, 10_000, 100_000)
)
INSERT_SECONDS = Histogram("adpulse_aggregator_insert_seconds", "ClickHouse insert latency")
DUPLICATES_DROPPED = Counter("adpulse_aggregator_duplicates_total", "Events dropped as duplicates")
DLQ_MESSAGES = Counter("adpulse_aggregator_dlq_total", "Messages sent to the dead-letter topic")
