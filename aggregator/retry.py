"""The write's retry policy: the same call again, with backoff, until it succeeds or the run stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aggregator import metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 5.0


def next_delay(delay: float) -> float:
    return min(delay * 2, MAX_DELAY_S)


async def retried(what: str, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event) -> T:
    """Run a write step (a ClickHouse lookup or insert, the outbox's Kafka publish) until it succeeds
    (backoff up to 5 s, the same input every time); a stop ends the retries (the failure is raised)."""
    delay = FIRST_DELAY_S
    while True:
        try:
            return await attempt()
        except Exception as exc:  # any ClickHouse or Kafka failure: retry the same step
            metrics.INSERT_ERRORS.inc()
            if stop.is_set():
                raise
            log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = next_delay(delay)
