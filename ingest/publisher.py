"""Kafka publishing: one idempotent producer (acks=all) per worker process.

- :meth:`Publisher.publish` / :meth:`Publisher.publish_many` wait for the broker's acknowledgement
  (postbacks, clicks, batch API): the caller answers 2xx only after they return, and 503 when they
  raise :class:`PublishUnavailable`.
- :meth:`Publisher.publish_nowait` (snippet beacons, rejects) and :meth:`Publisher.publish_hit` (raw
  pixel hits) queue and return at once, so a browser is never kept waiting on Kafka. A background task
  hands the queue to the producer. While Kafka is down the queue fills and, past ``max_pending`` hits,
  further hits are dropped and counted in ``adpulse_pixel_dropped_total`` (never unbounded memory);
  when Kafka comes back the queue drains. ``stop()`` flushes everything queued and in flight.
- Raw pixel hits are batched: per partition (crc32 of the key, so one ``eid`` always lands on one
  partition), up to ``HIT_BATCH`` hits or ``HIT_LINGER_S`` become one NDJSON message with the header
  ``adpulse-kind: hits`` (codec: ``schemas.hits``). A Kafka
  message costs about 20 us of Python in the producer; a batched hit well under 1 us.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from adpulse.kafka import ConnectProblem, diagnose
from ingest.metrics import EVENTS_PUBLISHED, KAFKA_CONNECT_FAILURES, PIXEL_DROPPED, PUBLISH_FAILURES, PUBLISH_PENDING
from schemas import hits as hits_codec

log = logging.getLogger(__name__)

# topic, value, key, partition (None: by key), hits in the message, event type (for metrics)
Outgoing = tuple[str, bytes, bytes | None, int | None, int, str]
HIT_BATCH = 500
HIT_LINGER_S = 0.005
# Retrying a refused login (wrong password, certificate) cannot succeed until someone fixes the
# configuration or the broker's users: back off up to this, logging and counting every attempt.
FATAL_RETRY_MAX_S = 30.0


class PublishUnavailable(RuntimeError):
    """Kafka did not acknowledge the event in time; nothing can be promised to the sender."""


class Publisher:
    def __init__(
        self,
        options: dict[str, Any],
        *,
        ack_timeout_s: float,
        max_pending: int,
        reconnect_interval_s: float = 1.0,
        client_id: str = "adpulse-api",
    ) -> None:
        self._options = dict(options)  # adpulse.kafka.client_options: bootstrap servers and security
        self._bootstrap = str(options["bootstrap_servers"])
        self._ack_timeout_s = ack_timeout_s
        self._reconnect_interval_s = reconnect_interval_s
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._max_pending = max_pending
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue()  # bounded in hits by _pending, not in items
        self._pending = 0  # hits buffered, queued or in flight
        self._hit_topic = ""
        self._hit_partitions = 1
        self._hit_buffers: dict[int, bytearray] = {}
        self._hit_counts: dict[int, int] = {}
        self._inflight: dict[asyncio.Future[Any], Outgoing] = {}
        self._generation = 0  # bumped when the producer is replaced: late callbacks of the old one are ignored
        self._last_progress = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._stopping = False
        self.problem: ConnectProblem | None = None  # why the last connection attempt failed (for /readyz)

    async def start(self, hit_topic: str = "", hit_partitions: int = 1) -> None:
        """Connect now if Kafka answers, else keep trying in the background (/readyz says not ready)."""
        self._hit_topic, self._hit_partitions = hit_topic, hit_partitions
        if not await self._try_connect():
            self._tasks.append(asyncio.create_task(self._reconnect_loop()))
        self._tasks.append(asyncio.create_task(self._drain_queue()))
        self._tasks.append(asyncio.create_task(self._flush_hits_loop()))
        self._tasks.append(asyncio.create_task(self._watchdog()))

    async def _try_connect(self) -> bool:
        producer = AIOKafkaProducer(
            **self._options,
            acks="all",
            enable_idempotence=True,
            linger_ms=0,  # acks are awaited by callers; pixel hits are batched by publish_hit
            request_timeout_ms=int(self._ack_timeout_s * 1000),
            client_id=self._client_id,
        )
        try:
            await producer.start()
        except (KafkaError, OSError) as exc:
            await producer.stop()
            # aiokafka says only "Unable to bootstrap": find out whether the broker refused our login.
            problem = await diagnose(self._options, self._ack_timeout_s)
            self.problem = problem or ConnectProblem("unreachable", f"Kafka at {self._bootstrap}: {exc}")
            KAFKA_CONNECT_FAILURES.labels(self.problem.kind).inc()
            if self.problem.fatal:
                log.error("%s; retrying, but this needs a configuration fix", self.problem.message)
            else:
                log.warning("Kafka at %s not reachable yet: %s", self._bootstrap, exc)
            return False
        self.problem = None
        self._producer = producer
        self._last_progress = asyncio.get_running_loop().time()
        if self._hit_topic:
            with contextlib.suppress(KafkaError):
                self._hit_partitions = len(await producer.partitions_for(self._hit_topic)) or self._hit_partitions
        self._connected.set()
        log.info("connected to Kafka at %s", self._bootstrap)
        return True

    async def _reconnect_loop(self) -> None:
        delay = self._reconnect_interval_s
        while True:
            await asyncio.sleep(delay)
            if await self._try_connect():
                return
            fatal = self.problem is not None and self.problem.fatal
            delay = min(delay * 2, FATAL_RETRY_MAX_S) if fatal else self._reconnect_interval_s

    async def stop(self, timeout_s: float | None = None) -> None:
        """Deliver everything queued or in flight (bounded by ``timeout_s``, default the ack timeout), then close."""
        self._flush_hits()
        self._stopping = True
        deadline = asyncio.get_running_loop().time() + (self._ack_timeout_s if timeout_s is None else timeout_s)
        while (self._queue.qsize() or self._inflight) and self._producer is not None:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        lost = self._pending
        PUBLISH_PENDING.set(lost)
        if lost:
            PIXEL_DROPPED.labels("shutdown").inc(lost)
            log.warning("shutting down with %d queued hits Kafka never took", lost)
        if self._producer is not None:
            await self._producer.stop()  # flushes what the producer holds
            self._producer = None

    async def ready(self, topic: str) -> bool:
        if self._producer is None:
            return False
        try:
            partitions = await asyncio.wait_for(self._producer.partitions_for(topic), 2.0)
        except (KafkaError, TimeoutError):
            return False
        return bool(partitions)

    async def publish(self, topic: str, event: dict[str, Any], key: str) -> None:
        await self.publish_many(topic, [(event, key)])

    async def publish_many(self, topic: str, events: list[tuple[dict[str, Any], str]]) -> None:
        """Send all, then wait until Kafka acknowledged every one (or raise PublishUnavailable)."""
        producer = self._producer
        if producer is None:
            for event, _ in events:
                PUBLISH_FAILURES.labels(str(event["event_type"])).inc()
            raise PublishUnavailable("Kafka is not connected")
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                deliveries = [await producer.send(topic, orjson.dumps(e), key=k.encode()) for e, k in events]
                await asyncio.gather(*deliveries)
        except (KafkaError, TimeoutError) as exc:
            for event, _ in events:
                PUBLISH_FAILURES.labels(str(event["event_type"])).inc()
            raise PublishUnavailable(f"Kafka did not acknowledge: {exc!r}") from exc
        for event, _ in events:
            EVENTS_PUBLISHED.labels(str(event["event_type"])).inc()

    def publish_nowait(self, topic: str, event: dict[str, Any], key: str | None) -> bool:
        """Queue the event for Kafka and return at once. False when it was dropped (too many pending)."""
        if self._pending >= self._max_pending:
            PIXEL_DROPPED.labels("buffer_full").inc()
            return False
        if self._pending == 0:
            self._last_progress = asyncio.get_running_loop().time()  # idle is not stalled
        self._pending += 1
        label = str(event.get("event_type", "unknown"))
        self._queue.put_nowait((topic, orjson.dumps(event), key.encode() if key else None, None, 1, label))
        return True

    def publish_hit(self, hit: dict[str, Any], key: str) -> bool:
        """Add a raw pixel hit to its partition's batch. False when it was dropped (too many pending)."""
        if self._pending >= self._max_pending:
            PIXEL_DROPPED.labels("buffer_full").inc()
            return False
        if self._pending == 0:
            self._last_progress = asyncio.get_running_loop().time()  # idle is not stalled
        self._pending += 1
        partition = zlib.crc32(key.encode()) % self._hit_partitions
        buffer = self._hit_buffers.get(partition)
        if buffer is None:
            buffer = self._hit_buffers[partition] = bytearray()
            self._hit_counts[partition] = 0
        elif buffer:
            buffer += b"\n"
        buffer += hits_codec.encode(hit)
        self._hit_counts[partition] += 1
        if self._hit_counts[partition] >= HIT_BATCH:
            self._flush_partition(partition)
        return True

    def _flush_partition(self, partition: int) -> None:
        buffer, count = self._hit_buffers.pop(partition), self._hit_counts.pop(partition)
        self._queue.put_nowait((self._hit_topic, bytes(buffer), None, partition, count, "hit"))

    def _flush_hits(self) -> None:
        for partition in list(self._hit_buffers):
            self._flush_partition(partition)

    async def _flush_hits_loop(self) -> None:
        while True:
            await asyncio.sleep(HIT_LINGER_S)
            self._flush_hits()
            self.report_pending()

    def report_pending(self) -> None:
        """Publish the pending count to the gauge: a plain value (callback gauges are not seen across
        worker processes), refreshed every HIT_LINGER_S and when /metrics is read."""
        PUBLISH_PENDING.set(self._pending)

    async def _drain_queue(self) -> None:
        while True:
            await self._connected.wait()  # take nothing off the queue before Kafka is there: the bound stays exact
            producer = self._producer
            if producer is None:
                continue
            item = await self._queue.get()
            topic, value, key, partition, _, label = item
            try:
                headers = hits_codec.HEADERS if label == "hit" else None
                delivery = await producer.send(topic, value, key=key, partition=partition, headers=headers)
            except Exception as exc:  # noqa: BLE001 - whatever the producer raises, the item goes back
                log.debug("Kafka not taking events yet: %s", exc)
                self._queue.put_nowait(item)
                await asyncio.sleep(0.1)
                continue
            self._inflight[delivery] = item
            delivery.add_done_callback(lambda fut, gen=self._generation: self._delivered(fut, gen))

    async def _watchdog(self) -> None:
        """Replace a producer that stopped making progress (nothing delivered for 3 ack timeouts while
        work is waiting), re-queueing what it held: resent hits keep their event ids, so the aggregator
        counts them once."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1.0)
            stalled = loop.time() - self._last_progress > 3 * self._ack_timeout_s
            if self._producer is None or self._pending == 0 or not stalled:
                continue
            log.warning("Kafka producer made no progress for %.0fs with %d hits waiting: replacing it",
                        loop.time() - self._last_progress, self._pending)  # fmt: skip
            old, self._producer = self._producer, None
            self._connected.clear()
            self._generation += 1
            for item in self._inflight.values():
                self._queue.put_nowait(item)
            self._inflight.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old.stop(), self._ack_timeout_s)
            if not await self._try_connect():
                await self._reconnect_loop()

    def _delivered(self, fut: asyncio.Future[Any], generation: int) -> None:
        if generation != self._generation:
            return  # the watchdog already re-queued it
        item = self._inflight.pop(fut, None)
        if item is None:
            return
        count, event_type = item[4], item[5]
        if not fut.cancelled() and fut.exception() is None:
            self._last_progress = asyncio.get_running_loop().time()
            self._pending -= count
            EVENTS_PUBLISHED.labels(event_type).inc(count)
        elif not self._stopping:
            # Kafka did not take it (broker down past the request timeout): queue it again. It stays
            # counted in _pending, so the bound holds and new hits are the ones dropped.
            PUBLISH_FAILURES.labels(event_type).inc(count)
            self._queue.put_nowait(item)
        else:
            self._pending -= count
            PIXEL_DROPPED.labels("not_acknowledged").inc(count)
