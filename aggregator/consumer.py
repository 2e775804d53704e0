"""The aggregator: a Kafka consumer-group member driving a chain of steps (``aggregator/chain.py``):

    poll -> decode -> batch (rows, bytes or time) -> write (dedup + attribute + insert, retried) -> commit

- Raw pixel hit messages (header ``adpulse-kind: hits``, ``schemas.hits``) are not decoded: the
  batch keeps their bytes and one INSERT hands them to ClickHouse, which applies the ingest rules,
  dedup by event id and the rejects (migration 0005). No per-hit Python.
- Events the API built (postbacks, clicks, beacons, the batch API) are decoded, looked up (ClickHouse
  retried), built into rows (pure, run once, outside any retry) and inserted (retried).
- Offsets travel with the batch and are committed by the last step, only after ClickHouse acknowledged
  the insert (and the dead-letter topic the batch's poison messages).
- One write is in flight at a time while the next batch fills. When the next batch is full too, the
  batching step refuses the next message (``MessageRejected``): this loop pauses its partitions, keeps
  the refused message (and the rest of its poll) and submits it again later instead of buffering more,
  and keeps polling so it stays in the group. ClickHouse errors are retried with backoff, with the same
  dedup token; a stop ends the retries.
- The chain is built for a partition assignment and drained on revocation: the write in flight
  finishes and the current batch is written and committed before the partitions are given up; nothing
  is committed that was not written. The rebalance listener runs beside this loop (``getmany`` may
  return between its steps), so the chain is only touched under a lock: no write starts while it drains.
- A batch mostly made of invalid messages stops the aggregator (exit non-zero) instead of
  dead-lettering everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.structs import TopicPartition

from adpulse.clock import Clock
from adpulse.kafka import client_options
from adpulse.settings import Settings
from aggregator import metrics
from aggregator.batch_writer import TooManyInvalid
from aggregator.chain import build_chain
from aggregator.poll_size import PollSize
from aggregator.steps import MessageRejected, Step
from aggregator.writer import ClickHouseStore

__all__ = ["Aggregator", "TooManyInvalid", "kafka_consumer"]

log = logging.getLogger(__name__)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, aggregator: Aggregator) -> None:
        self._aggregator = aggregator

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._aggregator.drain()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned partitions %s", sorted(tp.partition for tp in assigned))
        self._aggregator.assigned()


def kafka_consumer(settings: Settings) -> AIOKafkaConsumer:
    """The aggregator's consumer-group member (offsets committed by hand, after the write)."""
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="adpulse-aggregator",
        max_partition_fetch_bytes=2 * 1024 * 1024,  # hit messages are ~175 KB; fetch buffers count in the RSS
    )


class Aggregator:
    """``consumer`` and ``dlq`` (the dead-letter and outbox producer) are injected; by default built from
    settings."""

    def __init__(
        self,
        settings: Settings,
        store: ClickHouseStore,
        clock: Clock,
        consumer: AIOKafkaConsumer | None = None,
        dlq: AIOKafkaProducer | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._consumer = consumer if consumer is not None else kafka_consumer(settings)
        self._dlq = (
            dlq
            if dlq is not None
            else AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True)
        )
        self._stop = asyncio.Event()
        self._poll_size = PollSize(settings.batch_max_rows)
        self._chain: Step[Any] | None = None
        self._factory: Callable[[], Step[Any]] = self._build
        self._lock = asyncio.Lock()  # the chain is driven by this loop or drained by a rebalance, not both
        self._pending: deque[Any] = deque()  # polled messages the chain has not taken yet
        self._paused = False
        self._failed: Exception | None = None  # a drain's failure, raised again by the loop
        self._next_offset: dict[TopicPartition, int] = {}

    def _build(self) -> Step[Any]:
        return build_chain(
            self._settings, self._store, self._clock, self._consumer, self._dlq, self._stop, self._poll_size
        )

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        await self._dlq.start()
        self._consumer.subscribe([self._settings.topic_events], listener=_Rebalance(self))
        await self._consumer.start()
        try:
            while not stop.is_set():
                records = await self._consumer.getmany(timeout_ms=50, max_records=self._poll_size.size())
                for tp, messages in records.items():
                    self._pending.extend(messages)
                    self._next_offset[tp] = messages[-1].offset + 1
                self._report_lag()
                await self._drive()
            await self.drain()
        finally:
            if self._chain is not None:
                self._chain.terminate()  # only after a failure: abandon the write in flight
            await self._consumer.stop()
            await self._dlq.stop()

    def assigned(self) -> None:
        """A new assignment: a new chain (the last one was drained on revocation)."""
        if self._chain is None:
            self._chain = self._factory()

    async def _drive(self) -> None:
        """Poll the chain (a finished write is committed, a due batch handed to the write), then submit
        the polled messages; a refused one pauses the partitions until it is taken."""
        async with self._lock:
            if self._failed is not None:
                raise self._failed
            if self._chain is None:
                if not self._pending:
                    return
                self._chain = self._factory()
            chain = self._chain
            await chain.poll()  # a failed write (TooManyInvalid, a stop during retries) ends the run here
            while self._pending:
                try:
                    await chain.submit(self._pending[0])
                except MessageRejected:
                    if not self._paused:
                        self._consumer.pause(*self._consumer.assignment())
                        self._paused = True
                        metrics.BACKPRESSURE.inc()
                    return
                self._pending.popleft()
            self._resume()

    async def drain(self) -> None:
        """Finish the write in flight, then write and commit what is batched, and drop the chain. Called by
        the rebalance listener beside the polling loop, and at the end of a run: it waits for the loop
        to leave the chain, and the loop waits for it (no write starts while it drains)."""
        async with self._lock:
            # Polled but never taken: nothing of them is committed, whoever owns the partition next reads
            # them again from the committed offset.
            self._pending.clear()
            chain, self._chain = self._chain, None
            try:
                if chain is not None:
                    chain.close()
                    await chain.join()
            except BaseException as exc:
                self._chain = chain  # terminated by run()
                if isinstance(exc, Exception):
                    self._failed = exc
                raise
            finally:
                self._resume()

    def _resume(self) -> None:
        if self._paused:
            self._consumer.resume(*self._consumer.assignment())
            self._paused = False

    def _report_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            taken = self._next_offset.get(tp)
            if highwater is not None and taken is not None:
                metrics.CONSUMER_LAG.labels(str(tp.partition)).set(max(0, highwater - taken))
