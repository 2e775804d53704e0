"""The aggregator: consumes events from Kafka, deduplicates, attributes, writes batches to ClickHouse."""
