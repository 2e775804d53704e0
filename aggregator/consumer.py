"""The consumer loop: poll -> decode -> batch (rows or time) -> attribute -> insert -> commit.

Offsets are committed only after ClickHouse acknowledged the batch (and the dead-letter topic
acknowledged its poison messages). On a rebalance the current batch is written and committed before
the partitions are given up, so nothing uncommitted is ever acknowledged as done.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.structs import TopicPartition

from adpulse.clock import Clock
from adpulse.settings import Settings
from aggregator.batch import Batch
from aggregator.metrics import BATCH_ROWS, DLQ_MESSAGES, DUPLICATES_DROPPED, INSERT_SECONDS
from aggregator.processor import ClickDimensions, InvalidMessage, decode, to_row
from aggregator.writer import ClickHouseWriter
from schemas.events import EventType

log = logging.getLogger(__name__)


class _FlushOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, aggregator: Aggregator) -> None:
        self._aggregator = aggregator

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._aggregator.flush()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))


class Aggregator:
    def __init__(self, settings: Settings, writer: ClickHouseWriter, clock: Clock) -> None:
        self._settings = settings
        self._writer = writer
        self._clock = clock
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=settings.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="adpulse-aggregator",
        )
        self._dlq = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
        self._batch = Batch(started_at=clock.monotonic())
        self._lock = asyncio.Lock()

    async def run(self, stop: asyncio.Event) -> None:
        await self._dlq.start()
        self._consumer.subscribe([self._settings.topic_events], listener=_FlushOnRevoke(self))
        await self._consumer.start()
        try:
            while not stop.is_set():
                records = await self._consumer.getmany(
                    timeout_ms=int(self._settings.batch_max_seconds * 1000 / 2),
                    max_records=self._settings.batch_max_rows,
                )
                for tp, messages in records.items():
                    for message in messages:
                        self._take(tp, message)
                if self._due():
                    await self.flush()
            await self.flush()
        finally:
            await self._consumer.stop()
            await self._dlq.stop()

    def _take(self, tp: TopicPartition, message: Any) -> None:
        self._batch.track(tp, message.offset)
        try:
            self._batch.add(decode(message.value))
        except InvalidMessage as exc:
            self._batch.poison.append((message, str(exc)))

    def _due(self) -> bool:
        if not self._batch.ranges:
            self._batch.started_at = self._clock.monotonic()
            return False
        age = self._clock.monotonic() - self._batch.started_at
        return len(self._batch) >= self._settings.batch_max_rows or age >= self._settings.batch_max_seconds

    async def flush(self) -> None:
        async with self._lock:
            batch = self._batch
            if not batch.ranges:
                return
            await self._dead_letter(batch)
            conversions = [e.click_id for e in batch.events if e.event_type is EventType.CONVERSION]
            known = await self._writer.lookup_clicks(conversions)
            in_batch = {e.click_id: e for e in batch.events if e.event_type is EventType.CLICK and e.click_id}
            rows = []
            for event in batch.events:
                click = None
                if event.event_type is EventType.CONVERSION:
                    click = known.get(event.click_id)
                    source = in_batch.get(event.click_id)
                    if click is None and source is not None:
                        click = ClickDimensions.of(source)
                rows.append(to_row(event, click))
            started = self._clock.monotonic()
            await self._writer.insert(rows, batch.dedup_token())
            INSERT_SECONDS.observe(self._clock.monotonic() - started)
            BATCH_ROWS.observe(len(rows))
            DUPLICATES_DROPPED.inc(batch.duplicates)
            await self._consumer.commit(batch.commit_offsets())
            self._batch = Batch(started_at=self._clock.monotonic())

    async def _dead_letter(self, batch: Batch) -> None:
        for message, reason in batch.poison:
            envelope = {
                "reason": reason,
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
                "value": (message.value or b"").decode("utf-8", "replace"),
            }
            await self._dlq.send_and_wait(self._settings.topic_dlq, orjson.dumps(envelope))
            DLQ_MESSAGES.inc()
