"""Graceful stop within the orchestrator's grace period, for the long-running roles that own their loop.

SIGTERM (or SIGINT) sets the ``stop`` event the work watches; the work then finishes what it holds
(the aggregator: the write in flight and its batch, committed). It gets ``timeout_s``
(``ADPULSE_SHUTDOWN_TIMEOUT_S``) for that; past it the work is cancelled, which is safe because
nothing is committed to Kafka before ClickHouse took it: the uncommitted rest is read again by
whichever aggregator gets the partitions. The API's stop is granian's (stop accepting, finish the
requests in flight, then the lifespan drains the publisher within the same timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


async def run_until_stopped(
    work: Callable[[asyncio.Event], Coroutine[Any, Any, None]],
    timeout_s: float,
    stop: asyncio.Event | None = None,
    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
) -> bool:
    """Run ``work(stop)``; on a signal set ``stop`` and wait ``timeout_s`` for it to end.

    Returns True when the work ended by itself (or finished its stop in time), False when it was cut off.
    An exception raised by the work propagates.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(work(stop))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            log.info("stopping: finishing the work in hand (at most %.1fs)", timeout_s)
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout_s)
            except TimeoutError:
                log.warning("not finished after %.1fs: stopping now; uncommitted work is redone on restart", timeout_s)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return False
        task.result()
        return True
    finally:
        stopping.cancel()
        for sig in signals:
            loop.remove_signal_handler(sig)
