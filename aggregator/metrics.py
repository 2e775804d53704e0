"""Prometheus metrics of the aggregator (served on ADPULSE_AGGREGATOR_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BATCH_ROWS = Histogram(
    "adpulse_aggregator_batch_rows", "Rows per ClickHouse insert", buckets=(1, 10, 100, 1_000, 10_000, 100_000)
)
INSERT_SECONDS = Histogram("adpulse_aggregator_insert_seconds", "ClickHouse insert latency")
INSERT_ERRORS = Counter("adpulse_aggregator_insert_errors_total", "Failed ClickHouse lookups or inserts (retried)")
DUPLICATES = Counter("adpulse_aggregator_duplicates_total", "Events dropped as already counted")
LATE_ATTRIBUTIONS = Counter(
    "adpulse_aggregator_late_attributions_total", "Conversions attributed when their click arrived after them"
)
DLQ_MESSAGES = Counter("adpulse_aggregator_dlq_total", "Messages sent to the dead-letter topic")
BACKPRESSURE = Counter("adpulse_aggregator_paused_total", "Times the consumer paused its partitions")
CONSUMER_LAG = Gauge("adpulse_aggregator_consumer_lag", "Messages behind the partition's high watermark", ["partition"])
END_TO_END_SECONDS = Histogram(
    "adpulse_aggregator_end_to_end_seconds",
    "From received_at (API) to written in ClickHouse, sampled",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 5, 10, 30, 60),
)
