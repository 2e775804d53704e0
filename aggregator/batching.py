"""The batching step: decoded messages accumulate into a :class:`Batch`, handed to the write when the
close policy (``aggregator/close_policy.py``) says so.

A full batch takes no more: the message that finds it full is refused (:class:`MessageRejected`) while
the write step cannot take the batch, so the consumer pauses instead of this step queueing. A batch
whose time came but which the busy write step refuses keeps filling until full, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from adpulse.clock import Clock
from aggregator.batch import Batch
from aggregator.close_policy import ClosePolicy
from aggregator.decode import Decoded
from aggregator.poll_size import PollSize
from aggregator.steps import MessageRejected, Step

_JOIN_POLL_S = 0.005  # join: how often to offer the last batch to a write step still busy


class Batching:
    """``writing`` tells whether a write is in flight (the write step's ``busy``), for the policy."""

    def __init__(
        self,
        next_step: Step[Batch],
        policy: ClosePolicy,
        clock: Clock,
        poll_size: PollSize,
        writing: Callable[[], bool],
    ) -> None:
        self._next = next_step
        self._policy = policy
        self._clock = clock
        self._poll_size = poll_size
        self._writing = writing
        self._batch = Batch(started_at=clock.monotonic())
        self._closed = False
        poll_size.batched = 0

    async def submit(self, item: Decoded) -> None:
        if self._closed:
            raise RuntimeError("batching step closed")
        if self._policy.full(self._batch):
            await self._hand_off()  # MessageRejected while a write is in flight: the consumer pauses
        batch = self._batch
        batch.track(item.tp, item.message.offset, len(item.message.value or b""))
        if item.is_hits:
            batch.hits.append(item.message)
            batch.hit_count += item.hits
        else:
            batch.events.extend(item.events)
            batch.poison.extend((item.message, reason) for reason in item.poison)
        self._poll_size.observe(item.rows)
        self._poll_size.batched = len(batch)

    async def poll(self) -> None:
        await self._next.poll()
        now = self._clock.monotonic()
        if not self._batch.ranges:
            self._batch.started_at = now  # a batch's age counts from its first message
            return
        if self._policy.closes(self._batch, now - self._batch.started_at, writing=self._writing()):
            with contextlib.suppress(MessageRejected):  # the write in flight: keep filling
                await self._hand_off()

    def close(self) -> None:
        self._closed = True

    async def join(self) -> None:
        """Hand the batch to the write step (once its write in flight finished), then join it."""
        while self._batch.ranges:
            try:
                await self._hand_off()
            except MessageRejected:
                await self._next.poll()
                await asyncio.sleep(_JOIN_POLL_S)
        self._next.close()
        await self._next.join()

    def terminate(self) -> None:
        self._closed = True
        self._next.terminate()

    async def _hand_off(self) -> None:
        await self._next.submit(self._batch)
        self._batch = Batch(started_at=self._clock.monotonic())
        self._poll_size.batched = 0
