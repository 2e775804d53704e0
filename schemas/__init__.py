"""Event models, Kafka wire format and ClickHouse DDL/migrations: adpulse's public contracts."""
