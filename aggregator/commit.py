"""The commit step, last in the chain: commits a written batch's offsets through the consumer.

It only ever sees batches whose write succeeded (the write step hands nothing else on), so nothing is
committed that ClickHouse (and the dead-letter topic) did not acknowledge.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiokafka.structs import TopicPartition

from aggregator.batch import Batch


class Committer(Protocol):
    async def commit(self, offsets: dict[TopicPartition, int]) -> Any: ...


class Commit:
    def __init__(self, consumer: Committer) -> None:
        self._consumer = consumer
        self._closed = False

    async def submit(self, item: Batch) -> None:
        if self._closed:
            raise RuntimeError("commit step closed")
        await self._consumer.commit(item.commit_offsets())

    async def poll(self) -> None:
        return None

    def close(self) -> None:
        self._closed = True

    async def join(self) -> None:
        return None

    def terminate(self) -> None:
        self._closed = True
