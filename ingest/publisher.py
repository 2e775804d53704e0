"""Kafka publishing: one idempotent producer (acks=all) per worker process.

- :meth:`Publisher.publish` / :meth:`Publisher.publish_many` wait for the broker's acknowledgement
  (postbacks, clicks, batch API): the caller answers 2xx only after they return, and 503 when they
  raise :class:`PublishUnavailable`.
- :meth:`Publisher.publish_nowait` (pixel, snippet beacons, rejects) puts the event in a bounded
  queue and returns at once, so a browser is never kept waiting on Kafka. A background task hands
  queued events to the producer; while Kafka is down the queue fills and, once full, further hits are
  dropped and counted in ``adpulse_pixel_dropped_total`` (never unbounded memory). When Kafka comes
  back the queue drains. ``stop()`` flushes everything queued and in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ingest.metrics import EVENTS_PUBLISHED, PIXEL_DROPPED, PUBLISH_FAILURES, PUBLISH_PENDING

log = logging.getLogger(__name__)

Outgoing = tuple[str, bytes, bytes | None, str]  # topic, value, key, event type (for metrics)


class PublishUnavailable(RuntimeError):
    """Kafka did not acknowledge the event in time; nothing can be promised to the sender."""


class Publisher:
    def __init__(
        self,
        bootstrap: str,
        *,
        ack_timeout_s: float,
        max_pending: int,
        reconnect_interval_s: float = 1.0,
        client_id: str = "adpulse-api",
    ) -> None:
        self._bootstrap = bootstrap
        self._ack_timeout_s = ack_timeout_s
        self._reconnect_interval_s = reconnect_interval_s
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=max_pending)
        self._inflight: set[asyncio.Future[Any]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        """Connect now if Kafka answers, else keep trying in the background (/readyz says not ready)."""
        if not await self._try_connect():
            self._tasks.append(asyncio.create_task(self._reconnect_loop()))
        self._tasks.append(asyncio.create_task(self._drain_queue()))

    async def _try_connect(self) -> bool:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            request_timeout_ms=int(self._ack_timeout_s * 1000),
            client_id=self._client_id,
        )
        try:
            await producer.start()
        except (KafkaError, OSError) as exc:
            log.warning("Kafka at %s not reachable yet: %s", self._bootstrap, exc)
            await producer.stop()
            return False
        self._producer = producer
        self._connected.set()
        log.info("connected to Kafka at %s", self._bootstrap)
        return True

    async def _reconnect_loop(self) -> None:
        while True:
            await asyncio.sleep(self._reconnect_interval_s)
            if await self._try_connect():
                return

    async def stop(self) -> None:
        """Deliver everything queued or in flight (bounded by the ack timeout), then close."""
        deadline = asyncio.get_running_loop().time() + self._ack_timeout_s
        while (self._queue.qsize() or self._inflight) and self._producer is not None:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        lost = self._queue.qsize()
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
        """Queue the event for Kafka and return at once. False when it was dropped (queue full)."""
        try:
            self._queue.put_nowait(
                (topic, orjson.dumps(event), key.encode() if key else None, str(event.get("event_type", "reject")))
            )
        except asyncio.QueueFull:
            PIXEL_DROPPED.labels("buffer_full").inc()
            return False
        PUBLISH_PENDING.set(self._queue.qsize() + len(self._inflight))
        return True

    async def _drain_queue(self) -> None:
        while True:
            await self._connected.wait()  # take nothing off the queue before Kafka is there: the bound stays exact
            producer = self._producer
            if producer is None:  # stopped meanwhile
                return
            topic, value, key, event_type = await self._queue.get()
            while True:
                try:
                    delivery = await producer.send(topic, value, key=key)
                    break
                except KafkaError as exc:  # the producer's own buffer is full or metadata is missing
                    log.debug("Kafka not taking events yet: %s", exc)
                    await asyncio.sleep(0.1)
            self._inflight.add(delivery)
            delivery.add_done_callback(lambda fut, kind=event_type: self._delivered(fut, kind))

    def _delivered(self, fut: asyncio.Future[Any], event_type: str) -> None:
        self._inflight.discard(fut)
        PUBLISH_PENDING.set(self._queue.qsize() + len(self._inflight))
        if fut.cancelled() or fut.exception() is not None:
            PIXEL_DROPPED.labels("not_acknowledged").inc()
            PUBLISH_FAILURES.labels(event_type).inc()
        else:
            EVENTS_PUBLISHED.labels(event_type).inc()
