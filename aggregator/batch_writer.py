"""What writing one batch means: dead letters, lookups, rows, outbox, insert, hits, metrics.

- A batch of at least ``dlq_min_messages`` with more than ``dlq_max_ratio`` poison raises
  :class:`TooManyInvalid` before anything is written: the aggregator stops and commits nothing.
- Poison messages go to the dead-letter topic first.
- Events the API built: look up what ClickHouse knows (retried), build the rows (pure, run once,
  outside any retry: a bug there stops the aggregator instead of looping as "write failed"), publish
  the conversions to deliver (the outbox, retried), insert (retried, same dedup token).
- Raw hit messages, at the same time as the events (each insert has its own token): one INSERT of their
  bytes (retried, same token); when ClickHouse refuses it, the messages Python cannot decode are
  dead-lettered one by one and the rest is retried at once.

Every retry repeats the same call with the same input (``aggregator/retry.py``); a stop ends them. The
offsets are not committed here: the write step hands the written batch on to the commit step.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer

from adpulse.clock import Clock
from adpulse.settings import Settings
from aggregator import metrics, outbox
from aggregator.batch import Batch
from aggregator.dead_letter import dead_letter
from aggregator.processor import undecodable_hits
from aggregator.retry import FIRST_DELAY_S, next_delay, retried
from aggregator.transform import build, needed
from aggregator.writer import ClickHouseStore

log = logging.getLogger(__name__)
_DAY_MS = 86_400_000


class TooManyInvalid(RuntimeError):
    """Most of a batch failed to decode: something upstream is broken; stop rather than dead-letter it all."""


class BatchWriter:
    """``producer`` publishes dead letters and the outbox; ``stop`` ends the retries."""

    def __init__(
        self,
        settings: Settings,
        store: ClickHouseStore,
        producer: AIOKafkaProducer,
        clock: Clock,
        stop: asyncio.Event,
    ) -> None:
        self._settings = settings
        self._store = store
        self._producer = producer
        self._clock = clock
        self._stop = stop
        self._window_ms = settings.attribution_window_days * _DAY_MS
        self._lists = settings.bot_lists()

    def check_invalid(self, batch: Batch) -> None:
        settings = self._settings
        if len(batch) >= settings.dlq_min_messages and len(batch.poison) > settings.dlq_max_ratio * len(batch):
            raise TooManyInvalid(
                f"{len(batch.poison)} of {len(batch)} messages invalid (first: {batch.poison[0][1]}); not committing"
            )

    async def write(self, batch: Batch) -> None:
        self.check_invalid(batch)
        for message, reason in batch.poison:
            await dead_letter(self._producer, self._settings.topic_dlq, message, reason)
        started = self._clock.monotonic()
        token = batch.dedup_token()
        # The two inserts are independent (other rows, other tokens) and each costs a fixed planning time in
        # ClickHouse: they run side by side, and the batch is handed on (committed) once both succeeded.
        parts = []
        if batch.events:
            parts.append(self._write_events(batch, token))
        if batch.hits:
            parts.append(self._write_hits(batch, f"{token}:hits"))
        await asyncio.gather(*parts)
        now_ms = self._clock.now_ms()
        metrics.INSERT_SECONDS.observe(self._clock.monotonic() - started)
        for event in batch.events[:: max(1, len(batch.events) // 100)]:
            metrics.END_TO_END_SECONDS.observe(max(0, now_ms - event.received_at_ms) / 1000)
        for message in batch.hits[:: max(1, len(batch.hits) // 20)]:
            metrics.END_TO_END_SECONDS.observe(max(0, now_ms - message.timestamp) / 1000)

    async def _write_events(self, batch: Batch, token: str) -> None:
        settings = self._settings
        known = await retried("lookup", lambda: self._store.lookup(needed(batch.events)), self._stop)
        output = build(
            batch.events, known, self._window_ms, self._lists, settings.click_velocity_limit
        )  # pure: a bug here stops, never retries
        # Outbox: conversions to deliver onward, published (acks=all) before the insert; see
        # aggregator/outbox.py for why not after.
        await retried(
            "outbox",
            lambda: outbox.publish(self._producer, settings.topic_deliveries, batch.events, output.rows),
            self._stop,
        )
        await retried("insert", lambda: self._store.insert(output.rows, token), self._stop)
        metrics.BATCH_ROWS.observe(len(output.rows))
        metrics.DUPLICATES.inc(output.duplicates)
        metrics.LATE_ATTRIBUTIONS.inc(output.late_attributions)

    async def _write_hits(self, batch: Batch, token: str) -> None:
        """One INSERT of the batch's hit messages (retried with backoff, same token). When ClickHouse
        refuses it, the messages Python cannot decode (``schemas.hits``) are dead-lettered and the rest
        is retried at once. Finding them is pure and runs outside the try: a bug there stops the
        aggregator instead of retrying forever."""
        delay = FIRST_DELAY_S
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
                await dead_letter(self._producer, self._settings.topic_dlq, batch.hits[index], reason)
            if poison:
                batch.hits = [m for i, m in enumerate(batch.hits) if i not in poison]
                continue
            log.warning("retrying the hit insert in %.1fs", delay)
            await asyncio.sleep(delay)
            delay = next_delay(delay)
        metrics.BATCH_ROWS.observe(batch.hit_count)
