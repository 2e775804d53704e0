"""adpulse: event tracking for performance marketing (HTTP -> Kafka -> ClickHouse KPIs)."""

__version__ = "0.1.0"
