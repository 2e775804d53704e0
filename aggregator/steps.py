"""The one interface every processing step of the aggregator implements.

The aggregator is a chain of steps (``aggregator/chain.py``): decode -> batch -> write -> commit. Each
step takes items with :meth:`Step.submit` and hands what it produces to the next step; the consumer
loop (``aggregator/consumer.py``) drives the chain:

- ``submit(item)``: take one item, or raise :class:`MessageRejected` when the step cannot take it now
  (backpressure). The caller keeps the item and submits the same item again later; nothing queues.
- ``poll()``: do the work that is due (hand on a batch whose time came, a write that finished), then
  poll the next step. Errors of earlier work surface here.
- ``close()``: no more items will be submitted.
- ``join()``: finish everything submitted so far, handing it down the chain; a caller that cannot wait
  long bounds it with ``asyncio.timeout`` (the cancelled join leaves the rest undone, uncommitted).
- ``terminate()``: give up now, abandoning work in progress (nothing of it is committed).

Offsets travel with the items, and only the last step commits them, after the write was acknowledged.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

T_contra = TypeVar("T_contra", contravariant=True)


class MessageRejected(Exception):
    """The step cannot take this item now: submit the same item again later."""


class Step(Protocol[T_contra]):
    async def submit(self, item: T_contra) -> None: ...

    async def poll(self) -> None: ...

    def close(self) -> None: ...

    async def join(self) -> None: ...

    def terminate(self) -> None: ...
