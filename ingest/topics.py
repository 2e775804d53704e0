"""Kafka topics adpulse owns, created idempotently through the admin API (never auto-created).

| topic            | partitions                   | key                          | retention |
|------------------|------------------------------|------------------------------|-----------|
| adpulse.events   | ADPULSE_EVENTS_PARTITIONS (6) | click id, else ad id          | 7 days    |
| adpulse.rejects  | 1                            | none                         | 7 days    |
| adpulse.dlq      | 1                            | original topic/partition     | 30 days   |
| adpulse.deliveries | ADPULSE_EVENTS_PARTITIONS  | network + conversion key     | 7 days    |
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from adpulse.kafka import client_options
from adpulse.settings import Settings

log = logging.getLogger(__name__)

_DAY_MS = 24 * 3600 * 1000


def topic_specs(settings: Settings) -> list[NewTopic]:
    return [
        NewTopic(
            settings.topic_events, settings.events_partitions, 1, topic_configs={"retention.ms": str(7 * _DAY_MS)}
        ),
        NewTopic(settings.topic_rejects, 1, 1, topic_configs={"retention.ms": str(7 * _DAY_MS)}),
        NewTopic(settings.topic_dlq, 1, 1, topic_configs={"retention.ms": str(30 * _DAY_MS)}),
        NewTopic(  # issue 13: conversions to deliver onward (aggregator/outbox.py)
            settings.topic_deliveries, settings.events_partitions, 1, topic_configs={"retention.ms": str(7 * _DAY_MS)}
        ),
    ]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics; return the names created."""
    admin = AIOKafkaAdminClient(**client_options(settings), client_id="adpulse-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topic_specs(settings) if spec.name not in existing]
        created: list[str] = []
        for spec in missing:
            try:
                await admin.create_topics([spec])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                log.info("topic %s was created concurrently", spec.name)
        return created
    finally:
        await admin.close()
