"""The consumer loop (the driver): submits polled messages to the chain, pauses on a refusal and resubmits
the same message, and on a rebalance drains the chain (the write in flight, then the batch) before the
partitions are given up, starting no write meanwhile."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from adpulse.settings import Settings
from aggregator import metrics
from aggregator.batching import Batching
from aggregator.close_policy import ClosePolicy
from aggregator.commit import Commit
from aggregator.consumer import Aggregator
from aggregator.decode import Decode
from aggregator.write_step import WriteStep
from aggregator.writer import ClickHouseStore
from tests.aggregator.chain_parts import TP, ManualClock, Recorder, event_record


class Committed:
    def __init__(self):
        self.offsets = []

    async def commit(self, offsets):
        self.offsets.append(offsets)


class Paused:
    """What the driver asked of the consumer (a real AIOKafkaConsumer, never started, underneath)."""

    def __init__(self, consumer):
        self.calls: list[str] = []
        consumer.pause = lambda *tps: self.calls.append("pause")
        consumer.resume = lambda *tps: self.calls.append("resume")


async def clients():
    return AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1"), AIOKafkaProducer(bootstrap_servers="127.0.0.1:1")


async def test_a_refused_message_pauses_and_is_submitted_again_then_resumes():
    consumer, dlq = await clients()
    aggregator = Aggregator(Settings(), ClickHouseStore(None, "adpulse"), ManualClock(), consumer=consumer, dlq=dlq)
    chain, paused = Recorder(), Paused(consumer)
    aggregator._factory = lambda: chain
    try:
        first, second = event_record(1), event_record(2)
        aggregator._pending.extend([first, second])
        chain.refuse = True
        before = metrics.BACKPRESSURE._value.get()
        await aggregator._drive()
        await aggregator._drive()  # still refused: paused once
        assert paused.calls == ["pause"] and metrics.BACKPRESSURE._value.get() == before + 1
        assert list(aggregator._pending) == [first, second]  # kept, not dropped, not queued in the chain
        chain.refuse = False
        await aggregator._drive()
        assert chain.items == [first, second] and not aggregator._pending
        assert paused.calls == ["pause", "resume"]
        assert chain.polls == 3  # polled every time, paused or not
    finally:
        await consumer.stop()
        await dlq.stop()


async def test_drain_waits_for_the_write_in_flight_writes_the_batch_and_starts_none_meanwhile():
    """A rebalance's drain() runs beside the polling loop: the write in flight and the batch are written
    and committed, in order, before it returns; the loop does not touch the chain meanwhile (no write
    started, none forgotten), and a new chain is built for what comes after."""
    consumer, dlq = await clients()
    clock = ManualClock()
    aggregator = Aggregator(Settings(), ClickHouseStore(None, "adpulse"), clock, consumer=consumer, dlq=dlq)
    committed, gates, built = Committed(), [], []

    async def write(batch):
        gate = asyncio.get_running_loop().create_future()
        gates.append(gate)
        await gate

    def build():
        write_step = WriteStep(Commit(committed), write)
        policy = ClosePolicy(max_rows=100, max_bytes=10**9, max_events=10**9, min_seconds=0.5, max_seconds=0.5)
        chain = Decode(
            Batching(write_step, policy, clock, aggregator._poll_size, lambda: write_step.busy), honour_dnt=True
        )
        built.append(chain)
        return chain

    aggregator._factory = build
    try:
        aggregator._pending.append(event_record(0))
        await aggregator._drive()
        clock.t += 0.5
        aggregator._pending.append(event_record(1))
        await aggregator._drive()  # the first batch (offset 0) is due: its write starts; offset 1 batched
        await asyncio.sleep(0)
        assert len(gates) == 1
        draining = asyncio.create_task(aggregator.drain())
        await asyncio.sleep(0.01)
        aggregator._pending.append(event_record(2))  # polled meanwhile (after the new assignment)
        clock.t += 1
        looping = asyncio.create_task(aggregator._drive())
        await asyncio.sleep(0.01)
        assert not looping.done() and len(gates) == 1, "the loop drove the chain while it drained"
        gates[0].set_result(None)
        await asyncio.sleep(0.02)
        assert len(gates) == 2 and not draining.done(), "drain returned with a write still in flight"
        gates[1].set_result(None)
        await asyncio.wait_for(draining, 1)
        assert committed.offsets == [{TP: 1}, {TP: 2}]
        await asyncio.wait_for(looping, 1)
        assert len(built) == 2 and aggregator._chain is built[1]  # a new chain for the new assignment
    finally:
        for gate in gates:
            if not gate.done():
                gate.cancel()
        await consumer.stop()
        await dlq.stop()


async def test_a_failed_drain_is_raised_again_by_the_loop():
    consumer, dlq = await clients()
    aggregator = Aggregator(Settings(), ClickHouseStore(None, "adpulse"), ManualClock(), consumer=consumer, dlq=dlq)

    class Failing(Recorder):
        async def join(self):
            raise ConnectionError("ClickHouse gone")

    aggregator._chain = Failing()
    try:
        try:
            await aggregator.drain()
        except ConnectionError:
            pass
        else:
            raise AssertionError("drain swallowed the failure")
        try:
            await aggregator._drive()
        except ConnectionError:
            pass
        else:
            raise AssertionError("the loop went on after a failed drain")
    finally:
        await consumer.stop()
        await dlq.stop()
