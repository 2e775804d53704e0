"""``adpulse deliver``: conversions from ``adpulse.deliveries`` -> delivery state -> sent, retried, logged.

Two loops in one process:

- **accept**: poll the topic (own consumer group), plan each conversion's deliveries (targets whose
  configuration and statuses match), store the new ones as ``pending`` under their idempotency key
  (keys already stored are ignored: resent postbacks, aggregator retries, re-reads after a restart),
  and only then commit the offsets. Nothing read is lost: a crash before the commit re-reads.
- **send**: every ``deliver_poll_s`` (or at once when something new was accepted), the due pending
  deliveries of this member's partitions are sent concurrently; each outcome is stored (sent, pending
  with its next time, or dead + dead-letter row) and logged in ``delivery_log``.

The window between a target's answer and the stored ``sent`` is the only place a delivery can be sent
twice (a crash there); every request carries ``Idempotency-Key`` and the platform's own dedup id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError
from pydantic import ValidationError

from adpulse.clock import Clock
from adpulse.kafka import client_options
from adpulse.settings import Settings
from deliver import metrics
from deliver.message import Conversion
from deliver.sender import Sender
from deliver.store import PENDING, Attempt, Delivery, DeliveryStore
from deliver.targets import plan

log = logging.getLogger(__name__)
SKIPPED = "skipped"


class Deliverer:
    def __init__(
        self, settings: Settings, store: DeliveryStore, clock: Clock, http: httpx.AsyncClient, rng: random.Random
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._sender = Sender(settings, http, clock, rng)
        self._consumer = AIOKafkaConsumer(
            settings.topic_deliveries,
            **client_options(settings),
            group_id=settings.deliver_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="adpulse-deliver",
        )
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.start()
        sender = asyncio.create_task(self._send_loop(stop))
        try:
            while not stop.is_set():
                records = await self._consumer.getmany(timeout_ms=200, max_records=500)
                if records:
                    await self._accept_until_stored(records, stop)
                    try:
                        await self._consumer.commit()
                    except CommitFailedError as exc:  # a rebalance: the next owner re-reads, keys dedupe
                        log.warning("offset commit failed (%s); the messages will be read again", exc)
                if sender.done():
                    sender.result()  # a failure of the send loop ends the run
        finally:
            stop.set()
            self._wake.set()
            await asyncio.gather(sender, return_exceptions=True)
            await self._consumer.stop()

    async def _accept_until_stored(self, records: dict[Any, list[Any]], stop: asyncio.Event) -> None:
        """Store the batch's deliveries, retrying while ClickHouse is unavailable (nothing is skipped)."""
        delay = 0.5
        while True:
            try:
                await self.accept(records)
                return
            except Exception as exc:
                if stop.is_set():
                    raise
                log.warning("storing deliveries failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def accept(self, records: dict[Any, list[Any]]) -> int:
        """Store the new deliveries of these messages; returns how many were new."""
        items: list[tuple[int, Conversion]] = []
        for tp, messages in records.items():
            for message in messages:
                try:
                    items.append((tp.partition, Conversion.model_validate_json(message.value or b"")))
                except ValidationError as exc:
                    metrics.INVALID.inc()
                    log.error("invalid delivery message at %s/%d: %s", tp, message.offset, exc.errors()[0]["msg"])
        missing = [c.click_id for _, c in items if c.click is None and c.click_id]
        clicks = await asyncio.to_thread(self._store.clicks, missing) if missing else {}
        now = self._clock.now_ms()
        planned: dict[str, Delivery] = {}
        skipped: list[Attempt] = []
        for partition, conversion in items:
            if conversion.click is None and conversion.click_id in clicks:
                conversion = conversion.model_copy(update={"click": clicks[conversion.click_id]})
            for item in plan(conversion, self._settings, now):
                if item.key in planned:
                    continue
                delivery = Delivery(
                    item.key, item.target, conversion.network, conversion.conversion_key, conversion.status.value,
                    partition, SKIPPED if item.skip else PENDING, 0, None, now, now, now, item.skip,
                    conversion.model_dump_json(), 1,
                )  # fmt: skip
                planned[item.key] = delivery
        known = await asyncio.to_thread(self._store.known_keys, planned)
        new = [d for key, d in planned.items() if key not in known]
        for d in new:
            kind = d.target.partition(":")[0]
            if d.state == SKIPPED:
                metrics.SKIPPED.labels(kind).inc()
                skipped.append(Attempt(now, d, 0, "", "", 0, 0, SKIPPED, d.last_error, ""))
            else:
                metrics.PLANNED.labels(kind).inc()
        await asyncio.to_thread(self._store.save, new)
        await asyncio.to_thread(self._store.log, skipped)
        if any(d.state == PENDING for d in new):
            self._wake.set()
        return len(new)

    async def _send_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._settings.deliver_poll_s)
            self._wake.clear()
            if stop.is_set():
                return
            partitions = sorted(tp.partition for tp in self._consumer.assignment())
            try:
                await self.send_due(partitions)
            except Exception:  # ClickHouse unavailable: keep the process, try again next round
                log.exception("send round failed; retrying next round")

    async def send_due(self, partitions: list[int]) -> int:
        """Send what is due on ``partitions`` now; returns how many attempts were made."""
        now = self._clock.now_ms()
        limit = self._settings.deliver_concurrency * 4
        due = await asyncio.to_thread(self._store.due, partitions, now, limit)
        oldest = await asyncio.to_thread(self._store.pending_oldest_ms)
        metrics.PENDING_AGE.set(0 if oldest is None else max(0, now - oldest) / 1000)
        if not due:
            return 0
        gate = asyncio.Semaphore(self._settings.deliver_concurrency)

        async def one(delivery: Delivery) -> None:
            async with gate:
                outcome = await self._sender.attempt(delivery)
            # Stored one by one as answers come: the re-send window after a crash stays one request wide.
            await asyncio.to_thread(self._store.save, [outcome.delivery])
            await asyncio.to_thread(self._store.log, [outcome.attempt])
            if outcome.dead:
                await asyncio.to_thread(self._store.dead_letter, outcome.delivery, outcome.attempt.at_ms)

        await asyncio.gather(*(one(d) for d in due))
        if len(due) == limit:
            self._wake.set()  # more may be due
        return len(due)
