"""The decode step: a Kafka message -> :class:`Decoded` (events, poison, or raw hits), handed on.

Raw pixel hit messages (header ``adpulse-kind: hits``, ``schemas.hits``) are not decoded: their bytes
go on as Kafka gave them and ClickHouse parses them (``aggregator/batch_writer.py``); only their hits
are counted. Other messages are decoded with :func:`aggregator.processor.decode_all`; what is not an
event travels on as poison, with its reason, to be dead-lettered by the write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka.structs import TopicPartition

from aggregator.processor import decode_all
from aggregator.steps import Step
from schemas import hits as hits_codec
from schemas.events import Event


@dataclass
class Decoded:
    """One message, decoded: it carries its own offset (``message``) down the chain."""

    message: Any  # the ConsumerRecord
    hits: int = 0  # a hit message: how many hits its bytes carry (kept undecoded)
    events: list[Event] = field(default_factory=list)
    poison: list[str] = field(default_factory=list)  # why each of its other lines is not an event

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.message.topic, self.message.partition)

    @property
    def is_hits(self) -> bool:
        return hits_codec.is_hits(self.message.headers)

    @property
    def rows(self) -> int:
        """What the message counts for in a batch: its hits, or its events and poison lines."""
        return self.hits + len(self.events) + len(self.poison)


def decode_message(message: Any, *, honour_dnt: bool) -> Decoded:
    if hits_codec.is_hits(message.headers):
        return Decoded(message, hits=hits_codec.count(message.value or b""))
    decoded = Decoded(message)
    for outcome in decode_all(message.value, honour_dnt=honour_dnt):
        if isinstance(outcome, Event):
            decoded.events.append(outcome)
        else:  # not an event: dead-lettered with the reason
            decoded.poison.append(str(outcome))
    return decoded


class Decode:
    """Decodes on submit (pure, no I/O) and submits the result to the next step; a rejection by the
    next step propagates, so the consumer submits the same message again later."""

    def __init__(self, next_step: Step[Decoded], *, honour_dnt: bool) -> None:
        self._next = next_step
        self._honour_dnt = honour_dnt
        self._closed = False

    async def submit(self, item: Any) -> None:
        if self._closed:
            raise RuntimeError("decode step closed")
        await self._next.submit(decode_message(item, honour_dnt=self._honour_dnt))

    async def poll(self) -> None:
        await self._next.poll()

    def close(self) -> None:
        self._closed = True

    async def join(self) -> None:
        self._next.close()
        await self._next.join()

    def terminate(self) -> None:
        self._closed = True
        self._next.terminate()
