"""The batching step alone, with a recording write step: what a batch holds, and when it is handed on."""

import asyncio

import pytest

from aggregator.batching import Batching
from aggregator.close_policy import ClosePolicy
from aggregator.decode import decode_message
from aggregator.poll_size import PollSize
from aggregator.steps import MessageRejected
from tests.aggregator.chain_parts import TP, ManualClock, Recorder, event_record, hit_record, hits_value, record


def make(max_rows=100, min_seconds=0.5, max_seconds=0.5, writing=False):
    recorder, clock, size = Recorder(), ManualClock(), PollSize(max_rows)
    policy = ClosePolicy(
        max_rows=max_rows, max_bytes=10**9, max_events=10**9, min_seconds=min_seconds, max_seconds=max_seconds
    )
    step = Batching(recorder, policy, clock, size, writing=lambda: writing)
    return step, recorder, clock, size


def decoded(message):
    return decode_message(message, honour_dnt=True)


async def test_a_batch_keeps_hits_as_records_events_poison_and_offsets():
    step, recorder, clock, size = make(min_seconds=0.5, max_seconds=0.5)
    await step.submit(decoded(hit_record(10)))
    await step.submit(decoded(event_record(11)))
    await step.submit(decoded(record(12, hits_value(3))))  # no header: poison
    assert size.batched == 5
    clock.t += 0.5
    await step.poll()
    (batch,) = recorder.items
    assert [m.offset for m in batch.hits] == [10] and batch.hit_count == 3
    assert [e.ad_id for e in batch.events] == ["b"]
    assert [m.offset for m, _ in batch.poison] == [12]
    assert len(batch) == 5
    assert batch.commit_offsets() == {TP: 13}
    assert size.batched == 0


async def test_not_handed_on_before_its_time_and_age_counts_from_the_first_message():
    step, recorder, clock, _ = make()
    clock.t += 10
    await step.poll()  # empty: the clock starts now
    await step.submit(decoded(event_record(1)))
    clock.t += 0.4
    await step.poll()
    assert recorder.items == [] and recorder.polls == 2  # the next step is polled every time
    clock.t += 0.1
    await step.poll()
    assert len(recorder.items) == 1


async def test_min_age_hands_on_only_when_no_write_is_in_flight():
    for writing, expected in ((False, 1), (True, 0)):
        step, recorder, clock, _ = make(min_seconds=0.1, max_seconds=0.5, writing=writing)
        await step.poll()
        await step.submit(decoded(event_record(1)))
        clock.t += 0.2
        await step.poll()
        assert len(recorder.items) == expected


async def test_a_full_batch_is_handed_on_at_the_next_message_or_refuses_it():
    step, recorder, _, _ = make(max_rows=3)
    await step.submit(decoded(hit_record(1, count=3)))
    await step.submit(decoded(event_record(2)))  # the batch was full: handed on, the message starts the next
    assert [len(b) for b in recorder.items] == [3]
    await step.submit(decoded(hit_record(3, count=2)))
    recorder.refuse = True  # a write in flight
    with pytest.raises(MessageRejected):
        await step.submit(decoded(event_record(4)))
    recorder.refuse = False
    await step.submit(decoded(event_record(4)))  # the same message, later: taken once
    assert [b.commit_offsets() for b in recorder.items] == [{TP: 2}, {TP: 4}]


async def test_a_due_batch_refused_by_a_busy_writer_keeps_filling():
    step, recorder, clock, _ = make()
    await step.poll()
    await step.submit(decoded(event_record(1)))
    clock.t += 1
    recorder.refuse = True
    await step.poll()
    await step.submit(decoded(event_record(2)))
    recorder.refuse = False
    await step.poll()
    assert [len(b) for b in recorder.items] == [2]


async def test_join_waits_for_the_writer_then_hands_on_the_batch_and_joins_it():
    step, recorder, _, _ = make()
    await step.submit(decoded(event_record(7)))
    recorder.refuse = True
    step.close()
    joining = asyncio.create_task(step.join())
    await asyncio.sleep(0.02)
    assert not joining.done() and recorder.items == []
    recorder.refuse = False
    await asyncio.wait_for(joining, 1)
    assert [b.commit_offsets() for b in recorder.items] == [{TP: 8}]
    assert recorder.closed and recorder.joined
    with pytest.raises(RuntimeError):
        await step.submit(decoded(event_record(8)))
