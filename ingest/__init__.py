"""Parsing and validating incoming hits into events, and publishing them to Kafka."""
