"""The aggregator's take step: hit messages (by header) kept as bytes, other messages decoded."""

import asyncio

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition

from adpulse.clock import SystemClock
from adpulse.settings import Settings
from aggregator.consumer import Aggregator
from aggregator.writer import ClickHouseStore
from ingest.rawhit import raw_hit
from schemas import hits as codec
from tests import factories as params

TP = TopicPartition("adpulse.events", 0)


def _record(offset, value, headers=()):
    return ConsumerRecord("adpulse.events", 0, offset, 0, 0, None, value, None, len(value), -1, list(headers))


async def test_hit_messages_are_kept_as_bytes_and_events_are_decoded():
    # Real clients, never started: the take step does not talk to Kafka.
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
    dlq = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")
    aggregator = Aggregator(Settings(), ClickHouseStore(None, "adpulse"), SystemClock(), consumer=consumer, dlq=dlq)
    try:
        _take_and_check(aggregator)
    finally:
        await consumer.stop()
        await dlq.stop()


def _take_and_check(aggregator):
    hits = codec.join(codec.encode(raw_hit(b"ad_id=a", "", "", "", 5)[0]) for _ in range(3))
    event = orjson.dumps(params.impression({"ad_id": "b"}, 5))
    aggregator._take(TP, _record(10, hits, codec.HEADERS))
    aggregator._take(TP, _record(11, event))
    aggregator._take(TP, _record(12, hits))  # no header: not a hit batch, and not an event either
    batch = aggregator._batch
    assert [m.offset for m in batch.hits] == [10] and batch.hit_count == 3
    assert [e.ad_id for e in batch.events] == ["b"]
    assert [m.offset for m, _ in batch.poison] == [12]
    assert len(batch) == 5
    assert batch.commit_offsets() == {TP: 13}


def _state(aggregator: Aggregator) -> tuple[object, bool]:
    return aggregator._inflight, aggregator._draining


async def test_drain_waits_for_a_write_the_loop_started_while_it_drained():
    """A rebalance's drain() runs beside the polling loop: a write in flight that is replaced by a newer one
    (the loop's) must be waited for too, and the loop starts none while draining."""
    consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
    dlq = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")
    aggregator = Aggregator(Settings(), ClickHouseStore(None, "adpulse"), SystemClock(), consumer=consumer, dlq=dlq)
    try:
        first, second = asyncio.get_running_loop().create_future(), asyncio.get_running_loop().create_future()

        async def write(gate):
            await gate

        aggregator._inflight = asyncio.create_task(write(first))
        draining = asyncio.create_task(aggregator.drain())
        await asyncio.sleep(0)
        assert _state(aggregator)[1]
        first.set_result(None)
        aggregator._inflight = asyncio.create_task(write(second))  # what the loop did before the fix
        await asyncio.sleep(0.01)
        assert not draining.done(), "drain returned with a write still in flight"
        second.set_result(None)
        await asyncio.wait_for(draining, 1)
        assert _state(aggregator) == (None, False)
    finally:
        await consumer.stop()
        await dlq.stop()
