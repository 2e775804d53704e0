"""Prometheus metrics of ``adpulse deliver`` (served on 127.0.0.1:ADPULSE_DELIVER_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SENT = Counter("adpulse_deliveries_sent_total", "Deliveries the target accepted (2xx)", ["kind"])
FAILED = Counter("adpulse_deliveries_failed_total", "Deliveries given up (dead letters)", ["kind"])
RETRIED = Counter("adpulse_deliveries_retried_total", "Failed attempts scheduled for a retry", ["kind"])
SKIPPED = Counter("adpulse_deliveries_skipped_total", "Deliveries not sent (too old, no match keys)", ["kind"])
PLANNED = Counter("adpulse_deliveries_planned_total", "New deliveries accepted from the topic", ["kind"])
INVALID = Counter("adpulse_deliveries_invalid_messages_total", "Messages on the deliveries topic that failed to decode")
PENDING_AGE = Gauge("adpulse_deliveries_pending_age_seconds", "Age of the oldest delivery not yet sent or given up")
LATENCY = Histogram("adpulse_delivery_latency_seconds", "Target response time per attempt", ["kind"])
