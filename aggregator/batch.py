"""A batch of consumed messages: the decoded events, the poison ones, and the offsets they carry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from aiokafka.structs import TopicPartition

from schemas.events import Event


@dataclass
class Batch:
    started_at: float
    events: list[Event] = field(default_factory=list)
    poison: list[tuple[Any, str]] = field(default_factory=list)  # (ConsumerRecord, reason)
    # Raw pixel hit messages (schemas.hits), kept as the bytes Kafka gave: ClickHouse parses them.
    hits: list[Any] = field(default_factory=list)  # ConsumerRecords
    hit_count: int = 0
    bytes: int = 0
    # First and last offset seen per partition: what this batch covers, committed after the write.
    ranges: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.events) + len(self.poison) + self.hit_count

    def track(self, tp: TopicPartition, offset: int, size: int) -> None:
        first, _ = self.ranges.get(tp, (offset, offset))
        self.ranges[tp] = (first, offset)
        self.bytes += size

    def commit_offsets(self) -> dict[TopicPartition, int]:
        return {tp: last + 1 for tp, (_, last) in self.ranges.items()}

    def dedup_token(self) -> str:
        """Deterministic for the same messages: a retried insert of this batch carries the same token."""
        spans = ",".join(
            f"{tp.topic}/{tp.partition}:{first}-{last}"
            for tp, (first, last) in sorted(self.ranges.items(), key=lambda item: (item[0].topic, item[0].partition))
        )
        return hashlib.sha256(spans.encode()).hexdigest()
