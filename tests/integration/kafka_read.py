"""Read back what the API published, from the real broker (no consumer group, from the beginning)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition


async def find_messages(
    bootstrap: str, topic: str, match: Callable[[dict[str, Any]], bool], *, want: int = 1, wait_s: float = 20.0
) -> list[dict[str, Any]]:
    """Messages of ``topic`` (decoded JSON) that ``match``, once ``want`` of them are there or time is up."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await consumer.partitions_for_topic(topic) or [])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + wait_s
        while len(found) < want and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                for message in messages:
                    value = orjson.loads(message.value)
                    if match(value):
                        found.append(value)
    finally:
        await consumer.stop()
    return found


def find(bootstrap: str, topic: str, match: Callable[[dict[str, Any]], bool], **kwargs: Any) -> list[dict[str, Any]]:
    return asyncio.run(find_messages(bootstrap, topic, match, **kwargs))
