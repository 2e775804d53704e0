"""The dead-letter topic: a message that cannot be written goes there, with the reason, acks=all."""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from aggregator import metrics
from schemas import hits as hits_codec


class Producer(Protocol):
    async def send_and_wait(self, topic: str, value: bytes) -> Any: ...


async def dead_letter(producer: Producer, topic: str, message: Any, reason: str) -> None:
    """Publish ``message`` (a ConsumerRecord) with ``reason`` and wait for the ack."""
    envelope = {
        "reason": reason,
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "value": (message.value or b"").decode("utf-8", "replace"),
        "hits": hits_codec.is_hits(message.headers),
    }
    await producer.send_and_wait(topic, orjson.dumps(envelope))
    metrics.DLQ_MESSAGES.inc()
