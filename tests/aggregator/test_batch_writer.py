"""Writing one batch, on the real embedded ClickHouse engine: the invalid-ratio limit, dead letters, the
events' insert, and the hit insert that isolates poison messages."""

import asyncio
import time

import orjson
import pytest

from adpulse.clock import SystemClock
from adpulse.settings import Settings
from aggregator.batch import Batch
from aggregator.batch_writer import BatchWriter, TooManyInvalid
from aggregator.decode import decode_message
from aggregator.writer import ClickHouseStore
from schemas import hits as codec
from tests.aggregator.chain_parts import TP, event_record, hit_record, record

DB = "batchwritertest"
NOW = time.time_ns() // 1_000_000 - 60_000  # near now: the ingest rules refuse old hits


class Producer:
    """Records what would be published (dead letters and the outbox)."""

    def __init__(self):
        self.sent = []

    async def send_and_wait(self, topic, value):
        self.sent.append((topic, orjson.loads(value)))

    async def send(self, topic, value, key=None):
        self.sent.append((topic, orjson.loads(value)))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def batch_of(messages):
    batch = Batch(started_at=0)
    for message in messages:
        item = decode_message(message, honour_dnt=True)
        batch.track(TP, message.offset, len(message.value))
        if item.is_hits:
            batch.hits.append(message)
            batch.hit_count += item.hits
        batch.events.extend(item.events)
        batch.poison.extend((message, reason) for reason in item.poison)
    return batch


def count(store, sql):
    return store._client.query(sql).result_rows[0][0]


async def test_a_batch_mostly_invalid_stops_before_anything_is_written():
    producer = Producer()
    settings = Settings(dlq_min_messages=4, dlq_max_ratio=0.5)
    writer = BatchWriter(settings, ClickHouseStore(None, DB), producer, SystemClock(), asyncio.Event())
    bad = [record(i, b"not json") for i in range(3)]
    with pytest.raises(TooManyInvalid):
        await writer.write(batch_of([*bad, event_record(3)]))
    assert producer.sent == []
    await writer.write(batch_of(bad))  # fewer than dlq_min_messages: dead-lettered (no ClickHouse needed)
    assert [(topic, body["offset"]) for topic, body in producer.sent] == [("adpulse.dlq", i) for i in range(3)]


async def test_events_are_inserted_and_poison_dead_lettered(store):
    producer = Producer()
    writer = BatchWriter(Settings(), store, producer, SystemClock(), asyncio.Event())
    await writer.write(batch_of([event_record(1, ad_id="bw-ev", at_ms=NOW), record(2, b"{}")]))
    assert [body["offset"] for _, body in producer.sent] == [2]
    assert count(store, f"SELECT count() FROM {DB}.events WHERE ad_id = 'bw-ev'") == 1


async def test_a_hit_message_clickhouse_refuses_is_dead_lettered_and_the_rest_inserted(store):
    producer = Producer()
    writer = BatchWriter(Settings(), store, producer, SystemClock(), asyncio.Event())
    good = hit_record(1, count=4, at_ms=NOW, ad_id=b"bw-hit")
    broken = record(2, b'{"not": "a hit"', codec.HEADERS)
    batch = batch_of([good, broken])
    await writer.write(batch)
    assert [(body["offset"], body["hits"]) for _, body in producer.sent] == [(2, True)]
    assert [m.offset for m in batch.hits] == [1]
    assert count(store, f"SELECT count() FROM {DB}.events WHERE ad_id = 'bw-hit'") == 4
