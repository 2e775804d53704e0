"""What the step tests share: Kafka records, a clock the test moves, and a recording next step."""

from __future__ import annotations

import orjson
from aiokafka.structs import ConsumerRecord, TopicPartition

from ingest.rawhit import raw_hit
from schemas import hits as codec
from tests import factories

TOPIC = "adpulse.events"
TP = TopicPartition(TOPIC, 0)


def record(offset, value, headers=(), partition=0):
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, None, value, None, len(value), -1, list(headers))


def hits_value(count, at_ms=5, ad_id=b"a"):
    return codec.join(codec.encode(raw_hit(b"ad_id=" + ad_id, "", "", "", at_ms)[0]) for _ in range(count))


def hit_record(offset, count=3, partition=0, at_ms=5, ad_id=b"a"):
    return record(offset, hits_value(count, at_ms, ad_id), codec.HEADERS, partition)


def event_record(offset, ad_id="b", partition=0, at_ms=5):
    return record(offset, orjson.dumps(factories.impression({"ad_id": ad_id}, at_ms)), partition=partition)


class ManualClock:
    def __init__(self):
        self.t = 100.0

    def monotonic(self):
        return self.t

    def now_ms(self):
        return int(self.t * 1000)


class Recorder:
    """A next step that records what it is given; ``refuse`` makes it raise MessageRejected."""

    def __init__(self):
        self.items = []
        self.refuse = False
        self.polls = 0
        self.closed = False
        self.joined = False
        self.terminated = False

    async def submit(self, item):
        from aggregator.steps import MessageRejected

        if self.refuse:
            raise MessageRejected
        self.items.append(item)

    async def poll(self):
        self.polls += 1

    def close(self):
        self.closed = True

    async def join(self):
        self.joined = True

    def terminate(self):
        self.terminated = True
