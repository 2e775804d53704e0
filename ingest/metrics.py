"""Prometheus metrics of the ingest path (served by the API at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS_PUBLISHED = Counter(
    "adpulse_events_published_total", "Events acknowledged by Kafka, by event type", ["event_type"]
)
PUBLISH_FAILURES = Counter(
    "adpulse_publish_failures_total",
    "Events Kafka did not acknowledge (the caller got a 503 or, for the pixel, the hit was lost)",
    ["event_type"],
)
PIXEL_DROPPED = Counter(
    "adpulse_pixel_dropped_total",
    "Pixel hits answered with the GIF but not handed to Kafka, by reason",
    ["reason"],
)
REQUESTS_REJECTED = Counter(
    "adpulse_requests_rejected_total", "Requests refused with a 4xx, by endpoint and field", ["endpoint", "field"]
)
PUBLISH_PENDING = Gauge(
    "adpulse_publish_pending",
    "Events handed to the producer and not yet acknowledged (sum over live workers)",
    multiprocess_mode="livesum",
)
POSTBACK_AUTH_FAILURES = Counter(
    "adpulse_postback_auth_failures_total", "Postbacks refused for a missing or wrong network token", ["network"]
)
DUPLICATE_CHECKS_SKIPPED = Counter(
    "adpulse_duplicate_checks_skipped_total",
    "Postbacks answered without asking ClickHouse whether they were duplicates (busy or slow); still counted once",
)
KAFKA_CONNECT_FAILURES = Counter(
    "adpulse_kafka_connect_failures_total",
    "Failed attempts to connect the producer to Kafka, by reason (authentication, tls, unreachable)",
    ["reason"],
)
