"""``adpulse replay-dlq``: send dead-lettered messages back to the events topic after a fix.

Reads the dead-letter topic as consumer group ``<group>-dlq-replay`` up to the end it sees at start,
re-publishes each original value (keyed as before: by its original partition's key is lost, so by the
event's click id or event id when it decodes, else unkeyed; a batch of raw hits gets its ``schemas.hits``
header again), and commits after Kafka acknowledged it.
Messages that still do not decode are re-published too: the aggregator dead-letters them again,
which is what a replay before the fix should do.
"""

from __future__ import annotations

import logging

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from adpulse.kafka import client_options
from adpulse.settings import Settings
from schemas import hits as hits_codec

log = logging.getLogger(__name__)


def _key(value: bytes) -> bytes | None:
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict):
        return None
    key = event.get("click_id") or event.get("event_id")
    return str(key).encode() if key else None


async def replay_dlq(settings: Settings) -> int:
    """Replay what the dead-letter topic holds now; return how many messages were re-published."""
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=f"{settings.consumer_group}-dlq-replay",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True)
    await producer.start()
    await consumer.start()
    replayed = 0
    try:
        await consumer.topics()  # loads metadata
        partitions = [
            TopicPartition(settings.topic_dlq, p) for p in consumer.partitions_for_topic(settings.topic_dlq) or []
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
        while remaining:
            records = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, messages in records.items():
                for message in messages:
                    envelope = orjson.loads(message.value)
                    value = str(envelope["value"]).encode()
                    headers = hits_codec.HEADERS if envelope.get("hits") else None
                    await producer.send_and_wait(settings.topic_events, value, key=_key(value), headers=headers)
                    replayed += 1
                    if message.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
                await consumer.commit({tp: messages[-1].offset + 1})
    finally:
        await consumer.stop()
        await producer.stop()
    log.info("replayed %d dead-lettered messages to %s", replayed, settings.topic_events)
    return replayed
