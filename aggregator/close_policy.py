"""When a batch is closed (handed to the write): the rows/bytes/age policy, pure.

A batch closes when it is full (``ADPULSE_BATCH_MAX_ROWS`` rows, ``ADPULSE_BATCH_MAX_BYTES`` or
``ADPULSE_BATCH_MAX_EVENTS`` decoded events, which are Python objects where hits stay bytes), when
it is ``ADPULSE_BATCH_MAX_SECONDS`` old, or when it is ``ADPULSE_BATCH_MIN_SECONDS`` old and no write
is in flight. One write runs at a time, so a closed batch waits for the writer (and keeps filling
until full); only a full batch takes no more messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from adpulse.settings import Settings
from aggregator.batch import Batch


@dataclass(frozen=True)
class ClosePolicy:
    max_rows: int
    max_bytes: int
    max_events: int
    min_seconds: float
    max_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ClosePolicy:
        return cls(
            max_rows=settings.batch_max_rows,
            max_bytes=settings.batch_max_bytes,
            max_events=settings.batch_max_events,
            min_seconds=settings.batch_min_age(),
            max_seconds=settings.batch_max_seconds,
        )

    def full(self, batch: Batch) -> bool:
        return len(batch) >= self.max_rows or batch.bytes >= self.max_bytes or len(batch.events) >= self.max_events

    def closes(self, batch: Batch, age: float, *, writing: bool) -> bool:
        """Whether ``batch`` (``age`` seconds old) is to be written, ``writing`` telling whether a write
        is in flight. An empty batch never closes."""
        if not batch.ranges:
            return False
        return self.full(batch) or age >= self.max_seconds or (age >= self.min_seconds and not writing)
