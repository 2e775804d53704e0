"""The write step: one batch written at a time, in the background, while the next batch fills.

``submit`` starts the write of a batch (``aggregator/batch_writer.py``) as a task, or raises
:class:`MessageRejected` while one is in flight: the batching step then keeps its batch and, once it
is full, refuses messages (backpressure). ``poll`` hands a batch whose write succeeded to the next step
(the commit) and raises a write's failure (the aggregator stops, nothing of that batch committed).
``join`` waits for the write in flight, whichever write that is when it ends, and hands it on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aggregator.batch import Batch
from aggregator.steps import MessageRejected, Step


class WriteStep:
    def __init__(self, next_step: Step[Batch], write: Callable[[Batch], Awaitable[None]]) -> None:
        self._next = next_step
        self._write = write
        self._task: asyncio.Task[Batch] | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """A write is in flight (or finished and not yet handed on)."""
        return self._task is not None

    async def submit(self, item: Batch) -> None:
        if self._closed:
            raise RuntimeError("write step closed")
        if self._task is not None:
            raise MessageRejected
        self._task = asyncio.create_task(self._run(item))

    async def _run(self, batch: Batch) -> Batch:
        await self._write(batch)
        return batch

    async def poll(self) -> None:
        if self._task is not None and self._task.done():
            await self._hand_on()
        await self._next.poll()

    async def _hand_on(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await self._next.submit(task.result())  # a failed write raises here; nothing is committed

    def close(self) -> None:
        self._closed = True

    async def join(self) -> None:
        while self._task is not None:  # re-read: a write started meanwhile is waited for as well
            task = self._task
            await asyncio.wait([task])  # not cancelled with the join: terminate() does that
            if self._task is task:
                await self._hand_on()
        self._next.close()
        await self._next.join()

    def terminate(self) -> None:
        self._closed = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._next.terminate()
