"""Kafka client options shared by every client (API producer, aggregator, topics, replay, later consumers).

One place builds the connection options from the settings, so security (TLS, SASL) and bootstrap
servers are configured once and every client gets the same. Each client adds its own behaviour
(acks, group id, client id) on top.
"""

from __future__ import annotations

from typing import Any

from adpulse.settings import Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
    return {"bootstrap_servers": settings.kafka_bootstrap}
