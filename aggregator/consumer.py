"""The aggregator: poll -> decode -> batch (rows, bytes or time) -> dedup + attribute -> insert -> commit.

- Raw pixel hit messages (header ``adpulse-kind: hits``, ``schemas.hits``) are not decoded here: the
  batch keeps their bytes and one INSERT hands them to ClickHouse, which applies the ingest rules,
  dedup by event id and the rejects (migration 0005). No per-hit Python.
- Events the API built (postbacks, clicks, beacons, the batch API) are decoded, looked up (ClickHouse
  retried), built into rows (pure, run once, outside any retry) and inserted (retried).

- Offsets travel with the batch and are committed only after ClickHouse acknowledged the insert (and
  the dead-letter topic acknowledged the batch's poison messages).
- One write is in flight at a time while the next batch fills. When the next batch is full too, the
  consumer pauses its partitions (backpressure) instead of buffering more, and keeps polling so it
  stays in the group; ClickHouse errors are retried with backoff, with the same dedup token.
- On a rebalance the in-flight write finishes and the current batch is written and committed before
  the partitions are given up: nothing is committed that was not written.
- A batch mostly made of invalid messages stops the aggregator (exit non-zero) instead of
  dead-lettering everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.structs import TopicPartition

from adpulse.clock import Clock
from adpulse.kafka import client_options
from adpulse.settings import Settings
from aggregator import metrics, outbox
from aggregator.batch import Batch
from aggregator.processor import decode_all, undecodable_hits
from aggregator.transform import build, needed
from aggregator.writer import ClickHouseStore
from schemas import hits as hits_codec
from schemas.events import Event

log = logging.getLogger(__name__)
T = TypeVar("T")
_DAY_MS = 86_400_000


class TooManyInvalid(RuntimeError):
    """Most of a batch failed to decode: something upstream is broken; stop rather than dead-letter it all."""


class _FlushOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, aggregator: Aggregator) -> None:
        self._aggregator = aggregator

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._aggregator.drain()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("assigned partitions %s", sorted(tp.partition for tp in assigned))


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
    """``consumer`` and ``dlq`` (the dead-letter producer) are injected; by default built from settings."""

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
        self._batch = Batch(started_at=clock.monotonic())
        self._inflight: asyncio.Task[None] | None = None
        self._paused = False
        self._draining = False  # a rebalance's drain() runs: the polling loop starts no write meanwhile
        self._next_offset: dict[TopicPartition, int] = {}
        self._events_per_message = 1.0
        self._stop = asyncio.Event()
        self._window_ms = settings.attribution_window_days * _DAY_MS
        self._lists = settings.bot_lists()

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        await self._dlq.start()
        self._consumer.subscribe([self._settings.topic_events], listener=_FlushOnRevoke(self))
        await self._consumer.start()
        try:
            while not stop.is_set():
                await self._reap()
                records = await self._consumer.getmany(timeout_ms=50, max_records=self._poll_size())
                for tp, messages in records.items():
                    for message in messages:
                        self._take(tp, message)
                self._report_lag()
                if self._due():
                    if self._inflight is None and not self._draining:
                        self._inflight = asyncio.create_task(self._write(self._swap()))
                    elif self._full() and not self._paused:
                        self._consumer.pause(*self._consumer.assignment())
                        self._paused = True
                        metrics.BACKPRESSURE.inc()
            await self.drain()
        finally:
            if self._inflight is not None and not self._inflight.done():
                self._inflight.cancel()
            await self._consumer.stop()
            await self._dlq.stop()

    async def drain(self) -> None:
        """Finish the write in flight, then write and commit what is batched. Called by the rebalance
        listener while the polling loop runs (``getmany`` may return between its steps): the loop starts
        no write while it drains, and a write it started anyway is waited for, never forgotten."""
        self._draining = True
        try:
            while self._inflight is not None:
                task = self._inflight
                await task  # a failure propagates, and the loop's _reap raises it again
                if self._inflight is task:
                    self._inflight = None
            if self._batch.ranges:
                await self._write(self._swap())
            self._resume()
        finally:
            self._draining = False

    async def _reap(self) -> None:
        if self._inflight is not None and self._inflight.done():
            task, self._inflight = self._inflight, None
            task.result()  # a fatal error (TooManyInvalid, cancelled by stop) ends the run here
            self._resume()

    def _resume(self) -> None:
        if self._paused:
            self._consumer.resume(*self._consumer.assignment())
            self._paused = False

    def _poll_size(self) -> int:
        """How many messages to take now: a message may carry one event or hundreds (pixel batches), so
        the room left in the batch is divided by the recent events per message, keeping memory bounded."""
        room = max(1, self._settings.batch_max_rows - len(self._batch))
        return max(1, min(room, int(room / self._events_per_message)))

    def _take(self, tp: TopicPartition, message: Any) -> None:
        self._batch.track(tp, message.offset, len(message.value or b""))
        self._next_offset[tp] = message.offset + 1
        if hits_codec.is_hits(message.headers):
            count = hits_codec.count(message.value or b"")
            self._events_per_message = 0.9 * self._events_per_message + 0.1 * count
            self._batch.hits.append(message)
            self._batch.hit_count += count
            return
        outcomes = decode_all(message.value, honour_dnt=self._settings.honour_dnt)
        self._events_per_message = 0.9 * self._events_per_message + 0.1 * len(outcomes)
        for outcome in outcomes:
            if isinstance(outcome, Event):
                self._batch.events.append(outcome)
            else:  # not an event: dead-lettered with the reason
                self._batch.poison.append((message, str(outcome)))

    def _full(self) -> bool:
        return len(self._batch) >= self._settings.batch_max_rows or self._batch.bytes >= self._settings.batch_max_bytes

    def _due(self) -> bool:
        if not self._batch.ranges:
            self._batch.started_at = self._clock.monotonic()
            return False
        return self._full() or self._clock.monotonic() - self._batch.started_at >= self._settings.batch_max_seconds

    def _swap(self) -> Batch:
        batch, self._batch = self._batch, Batch(started_at=self._clock.monotonic())
        return batch

    def _report_lag(self) -> None:
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            taken = self._next_offset.get(tp)
            if highwater is not None and taken is not None:
                metrics.CONSUMER_LAG.labels(str(tp.partition)).set(max(0, highwater - taken))

    async def _retried(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run a write step (a ClickHouse lookup or insert, the outbox's Kafka publish) until it succeeds
        (backoff up to 5 s, the same input every time); a stop ends the retries."""
        delay = 0.1
        while True:
            try:
                return await attempt()
            except Exception as exc:  # any ClickHouse or Kafka failure: retry the same step
                metrics.INSERT_ERRORS.inc()
                if self._stop.is_set():
                    raise
                log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _write(self, batch: Batch) -> None:
        if len(batch) >= self._settings.dlq_min_messages and len(batch.poison) > self._settings.dlq_max_ratio * len(
            batch
        ):
            raise TooManyInvalid(
                f"{len(batch.poison)} of {len(batch)} messages invalid (first: {batch.poison[0][1]}); not committing"
            )
        await self._dead_letter(batch)
        started = self._clock.monotonic()
        token = batch.dedup_token()
        if batch.events:
            known = await self._retried("lookup", lambda: self._store.lookup(needed(batch.events)))
            output = build(
                batch.events, known, self._window_ms, self._lists, self._settings.click_velocity_limit
            )  # pure: a bug here stops, never retries
            # Issue 13 outbox: conversions to deliver onward, published (acks=all) before the insert; see
            # aggregator/outbox.py for why not after.
            await self._retried(
                "outbox", lambda: outbox.publish(self._dlq, self._settings.topic_deliveries, batch.events, output.rows)
            )
            await self._retried("insert", lambda: self._store.insert(output.rows, token))
            metrics.BATCH_ROWS.observe(len(output.rows))
            metrics.DUPLICATES.inc(output.duplicates)
            metrics.LATE_ATTRIBUTIONS.inc(output.late_attributions)
        if batch.hits:
            await self._write_hits(batch, f"{token}:hits")
        now_ms = self._clock.now_ms()
        metrics.INSERT_SECONDS.observe(self._clock.monotonic() - started)
        for event in batch.events[:: max(1, len(batch.events) // 100)]:
            metrics.END_TO_END_SECONDS.observe(max(0, now_ms - event.received_at_ms) / 1000)
        for message in batch.hits[:: max(1, len(batch.hits) // 20)]:
            metrics.END_TO_END_SECONDS.observe(max(0, now_ms - message.timestamp) / 1000)
        await self._consumer.commit(batch.commit_offsets())

    async def _write_hits(self, batch: Batch, token: str) -> None:
        """One INSERT of the batch's hit messages (retried with backoff, same token). When ClickHouse
        refuses it, the messages Python cannot decode (``schemas.hits``) are dead-lettered and the rest
        is retried at once. Finding them is pure and runs outside the try: a bug there stops the
        aggregator instead of retrying forever."""
        delay = 0.1
        while batch.hits:
            try:
                await self._store.insert_hits(
                    [m.value or b"" for m in batch.hits], token, honour_dnt=self._settings.honour_dnt
                )
                break
            except Exception as exc:  # any ClickHouse failure: look for poison, else retry the same body
                metrics.INSERT_ERRORS.inc()
                if self._stop.is_set():
                    raise
                log.warning("ClickHouse hit insert failed (%s)", exc)
            poison = undecodable_hits([m.value or b"" for m in batch.hits])
            for index, reason in poison.items():
                await self._dlq_send(batch.hits[index], reason)
            if poison:
                batch.hits = [m for i, m in enumerate(batch.hits) if i not in poison]
                continue
            log.warning("retrying the hit insert in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        metrics.BATCH_ROWS.observe(batch.hit_count)

    async def _dead_letter(self, batch: Batch) -> None:
        for message, reason in batch.poison:
            await self._dlq_send(message, reason)

    async def _dlq_send(self, message: Any, reason: str) -> None:
        envelope = {
            "reason": reason,
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "value": (message.value or b"").decode("utf-8", "replace"),
            "hits": hits_codec.is_hits(message.headers),
        }
        await self._dlq.send_and_wait(self._settings.topic_dlq, orjson.dumps(envelope))
        metrics.DLQ_MESSAGES.inc()
