"""The write step alone, with a recording commit step: one write at a time, handed on only when written."""

import asyncio

import pytest

from aggregator.batch import Batch
from aggregator.steps import MessageRejected
from aggregator.write_step import WriteStep
from tests.aggregator.chain_parts import TP, Recorder


def batch(offset):
    b = Batch(started_at=0)
    b.track(TP, offset, 1)
    return b


def in_flight(step):
    return step.busy


class GatedWrites:
    """Each write waits for the test to let it finish (or fail)."""

    def __init__(self):
        self.gates = []
        self.written = []

    async def __call__(self, item):
        gate = asyncio.get_running_loop().create_future()
        self.gates.append(gate)
        await gate
        self.written.append(item)


async def test_one_write_in_flight_and_handed_on_after_it_succeeded():
    recorder, writes = Recorder(), GatedWrites()
    step = WriteStep(recorder, writes)
    first = batch(1)
    await step.submit(first)
    assert in_flight(step)
    with pytest.raises(MessageRejected):
        await step.submit(batch(2))
    await asyncio.sleep(0)
    await step.poll()
    assert recorder.items == [] and recorder.polls == 1  # still writing: nothing to commit
    writes.gates[0].set_result(None)
    await asyncio.sleep(0)
    await step.poll()
    assert recorder.items == [first] and not in_flight(step)
    await step.submit(batch(2))  # the next write may start
    assert in_flight(step)


async def test_a_failed_write_is_raised_and_nothing_is_handed_on():
    recorder, writes = Recorder(), GatedWrites()
    step = WriteStep(recorder, writes)
    await step.submit(batch(1))
    await asyncio.sleep(0)
    writes.gates[0].set_exception(ConnectionError("ClickHouse gone"))
    await asyncio.sleep(0)
    with pytest.raises(ConnectionError):
        await step.poll()
    assert recorder.items == []


async def test_join_waits_for_the_write_in_flight_and_hands_it_on():
    recorder, writes = Recorder(), GatedWrites()
    step = WriteStep(recorder, writes)
    first = batch(1)
    await step.submit(first)
    joining = asyncio.create_task(step.join())
    await asyncio.sleep(0.01)
    assert not joining.done()
    writes.gates[0].set_result(None)
    await asyncio.wait_for(joining, 1)
    assert recorder.items == [first] and recorder.closed and recorder.joined


async def test_terminate_abandons_the_write_in_flight():
    recorder, writes = Recorder(), GatedWrites()
    step = WriteStep(recorder, writes)
    await step.submit(batch(1))
    await asyncio.sleep(0)
    step.terminate()
    await asyncio.sleep(0)
    assert writes.gates[0].cancelled() and recorder.terminated and recorder.items == []
