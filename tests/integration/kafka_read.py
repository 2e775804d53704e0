"""Read back what the API published, from the real broker (no consumer group, from the beginning)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer


async def find_messages(
    bootstrap: str, topic: str, match: Callable[[dict[str, Any]], bool], *, want: int = 1, wait_s: float = 20.0
) -> list[dict[str, Any]]:
    """Messages of ``topic`` (decoded JSON) that ``match``, once ``want`` of them are there or time is up."""
    # No group: the consumer is given every partition of the topic, read from the beginning.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + wait_s
        while len(found) < want and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                for message in messages:
                    try:
                        value = orjson.loads(message.value)
                    except orjson.JSONDecodeError:
                        continue  # poison messages other tests put on the topic on purpose
                    if isinstance(value, dict) and match(value):
                        found.append(value)
    finally:
        await consumer.stop()
    return found


def find(bootstrap: str, topic: str, match: Callable[[dict[str, Any]], bool], **kwargs: Any) -> list[dict[str, Any]]:
    return asyncio.run(find_messages(bootstrap, topic, match, **kwargs))
