"""Kafka publishing: one idempotent producer (acks=all) per worker process.

Two ways to publish:
- :meth:`Publisher.publish` waits for the broker's acknowledgement (postbacks, batch API): the caller
  answers 2xx only after it returns, and 503 when it raises :class:`PublishUnavailable`.
- :meth:`Publisher.publish_nowait` hands the event to the producer and returns at once (pixel): the
  number of unacknowledged events is bounded; beyond the bound, or when Kafka is unreachable, the hit is
  dropped and counted in ``adpulse_pixel_dropped_total``.
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


class PublishUnavailable(RuntimeError):
    """Kafka did not acknowledge the event in time; nothing can be promised to the sender."""


class Publisher:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        ack_timeout_s: float,
        max_pending: int,
        reconnect_interval_s: float = 1.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._ack_timeout_s = ack_timeout_s
        self._max_pending = max_pending
        self._reconnect_interval_s = reconnect_interval_s
        self._producer: AIOKafkaProducer | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._connector: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._producer is not None

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            request_timeout_ms=int(self._ack_timeout_s * 1000),
            client_id="adpulse-api",
        )

    async def start(self) -> None:
        """Connect now if Kafka answers; otherwise keep trying in the background (readyz says not ready)."""
        if await self._try_connect():
            return
        self._connector = asyncio.create_task(self._reconnect_loop())

    async def _try_connect(self) -> bool:
        producer = self._new_producer()
        try:
            await producer.start()
        except (KafkaError, OSError) as exc:
            log.warning("Kafka at %s not reachable yet: %s", self._bootstrap, exc)
            await producer.stop()
            return False
        self._producer = producer
        log.info("connected to Kafka at %s", self._bootstrap)
        return True

    async def _reconnect_loop(self) -> None:
        while True:
            await asyncio.sleep(self._reconnect_interval_s)
            if await self._try_connect():
                return

    async def stop(self) -> None:
        """Flush everything handed to the producer, then close it."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._pending:
            await asyncio.wait(self._pending, timeout=self._ack_timeout_s)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def ready(self) -> bool:
        if self._producer is None:
            return False
        try:
            partitions = await asyncio.wait_for(self._producer.partitions_for(self._topic), 2.0)
        except (KafkaError, TimeoutError):
            return False
        return bool(partitions)

    async def publish(self, event: dict[str, Any], key: str) -> None:
        event_type = str(event["event_type"])
        if self._producer is None:
            PUBLISH_FAILURES.labels(event_type).inc()
            raise PublishUnavailable("Kafka is not connected")
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                await self._producer.send_and_wait(self._topic, orjson.dumps(event), key=key.encode())
        except (KafkaError, TimeoutError) as exc:
            PUBLISH_FAILURES.labels(event_type).inc()
            raise PublishUnavailable(f"Kafka did not acknowledge: {exc!r}") from exc
        EVENTS_PUBLISHED.labels(event_type).inc()

    async def publish_nowait(self, event: dict[str, Any], key: str) -> bool:
        """Hand the event to the producer without waiting for the ack. False when it was dropped."""
        if self._producer is None:
            PIXEL_DROPPED.labels("kafka_unavailable").inc()
            return False
        if len(self._pending) >= self._max_pending:
            PIXEL_DROPPED.labels("buffer_full").inc()
            return False
        event_type = str(event["event_type"])
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                delivery = await self._producer.send(self._topic, orjson.dumps(event), key=key.encode())
        except (KafkaError, TimeoutError):
            PIXEL_DROPPED.labels("kafka_unavailable").inc()
            return False
        self._pending.add(delivery)
        PUBLISH_PENDING.set(len(self._pending))
        delivery.add_done_callback(lambda fut: self._delivered(fut, event_type))
        return True

    def _delivered(self, fut: asyncio.Future[Any], event_type: str) -> None:
        self._pending.discard(fut)
        PUBLISH_PENDING.set(len(self._pending))
        if fut.cancelled() or fut.exception() is not None:
            PIXEL_DROPPED.labels("not_acknowledged").inc()
            PUBLISH_FAILURES.labels(event_type).inc()
        else:
            EVENTS_PUBLISHED.labels(event_type).inc()
