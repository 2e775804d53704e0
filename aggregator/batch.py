"""A batch of consumed messages: the rows to write and the offsets they carry."""

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
    # First and last offset seen per partition: what this batch covers, committed after the write.
    ranges: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    duplicates: int = 0

    def __len__(self) -> int:
        return len(self.events) + len(self.poison)

    def track(self, tp: TopicPartition, offset: int) -> None:
        first, _ = self.ranges.get(tp, (offset, offset))
        self.ranges[tp] = (first, offset)

    def add(self, event: Event) -> None:
        if event.event_id in self.seen_ids:
            self.duplicates += 1
            return
        self.seen_ids.add(event.event_id)
        self.events.append(event)

    def commit_offsets(self) -> dict[TopicPartition, int]:
        return {tp: last + 1 for tp, (_, last) in self.ranges.items()}

    def dedup_token(self) -> str:
        """Deterministic for the same messages: a retried insert of this batch carries the same token."""
        spans = ",".join(
            f"{tp.topic}/{tp.partition}:{first}-{last}"
            for tp, (first, last) in sorted(self.ranges.items(), key=lambda item: (item[0].topic, item[0].partition))
        )
        return hashlib.sha256(spans.encode()).hexdigest()
