"""Kafka topics adpulse owns, created idempotently through the admin API (never auto-created).

| topic            | partitions                   | key                          | retention |
|------------------|------------------------------|------------------------------|-----------|
| adpulse.events   | ADPULSE_EVENTS_PARTITIONS (6) | click id, else ad id          | 7 days    |
| adpulse.rejects  | 1                            | none                         | 7 days    |
| adpulse.dlq      | 1                            | original topic/partition     | 30 days   |
| adpulse.deliveries | ADPULSE_EVENTS_PARTITIONS  | network + conversion key     | 7 days    |

Replication (ADPULSE_KAFKA_REPLICATION_FACTOR / ADPULSE_KAFKA_MIN_INSYNC_REPLICAS, default "auto"): from
the brokers the cluster has when the topics are created, up to 3 copies, and min.insync.replicas 2 once
there are 3, so an acknowledged event (acks=all) is on two brokers and survives the loss of one.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from adpulse.kafka import client_options
from adpulse.settings import Settings

log = logging.getLogger(__name__)

_DAY_MS = 24 * 3600 * 1000


class ReplicationError(RuntimeError):
    """The configured replication cannot be had from this cluster."""


def replication(settings: Settings, brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of ``brokers`` brokers."""
    configured = settings.kafka_replication_factor
    factor = min(3, max(1, brokers)) if configured == "auto" else configured
    if factor > brokers:
        raise ReplicationError(f"ADPULSE_KAFKA_REPLICATION_FACTOR={factor} but the cluster has {brokers} broker(s)")
    configured_isr = settings.kafka_min_insync_replicas
    insync = (2 if factor >= 3 else 1) if configured_isr == "auto" else configured_isr
    if insync > factor:
        raise ReplicationError(f"ADPULSE_KAFKA_MIN_INSYNC_REPLICAS={insync} exceeds the replication factor {factor}")
    return factor, insync


def topic_specs(settings: Settings, replicas: int = 1, min_insync: int = 1) -> list[NewTopic]:
    def spec(name: str, partitions: int, retention_days: int) -> NewTopic:
        configs = {"retention.ms": str(retention_days * _DAY_MS), "min.insync.replicas": str(min_insync)}
        return NewTopic(name, partitions, replicas, topic_configs=configs)

    return [
        spec(settings.topic_events, settings.events_partitions, 7),
        spec(settings.topic_rejects, 1, 7),
        spec(settings.topic_dlq, 1, 30),
        spec(settings.topic_deliveries, settings.events_partitions, 7),  # issue 13: aggregator/outbox.py
    ]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics; return the names created."""
    admin = AIOKafkaAdminClient(**client_options(settings), client_id="adpulse-admin")
    await admin.start()
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        replicas, min_insync = replication(settings, brokers)
        log.info("%d broker(s): replication factor %d, min.insync.replicas %d", brokers, replicas, min_insync)
        existing = set(await admin.list_topics())
        missing = [spec for spec in topic_specs(settings, replicas, min_insync) if spec.name not in existing]
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
