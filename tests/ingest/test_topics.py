"""Topic replication chosen from the cluster's size, or as configured."""

from __future__ import annotations

import pytest

from adpulse.settings import load_settings
from ingest.topics import ReplicationError, replication, topic_specs


@pytest.mark.parametrize(("brokers", "expected"), [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2))])
def test_auto_replication_follows_the_broker_count(brokers, expected):
    assert replication(load_settings(), brokers) == expected


def test_configured_replication_wins_and_is_checked_against_the_cluster():
    settings = load_settings(kafka_replication_factor=2, kafka_min_insync_replicas=2)
    assert replication(settings, 3) == (2, 2)
    with pytest.raises(ReplicationError, match="ADPULSE_KAFKA_REPLICATION_FACTOR=2 but the cluster has 1"):
        replication(settings, 1)
    with pytest.raises(ReplicationError, match="ADPULSE_KAFKA_MIN_INSYNC_REPLICAS=4"):
        replication(load_settings(kafka_min_insync_replicas=4), 3)


def test_every_topic_gets_the_replication_and_min_insync():
    specs = topic_specs(load_settings(), 3, 2)
    assert {s.name for s in specs} == {"adpulse.events", "adpulse.rejects", "adpulse.dlq", "adpulse.deliveries"}
    for spec in specs:
        assert spec.replication_factor == 3
        assert spec.topic_configs["min.insync.replicas"] == "2"
