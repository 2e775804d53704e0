"""The decode step alone: hit messages (by header) kept as bytes, other messages decoded, poison carried."""

import pytest

from aggregator.decode import Decode
from aggregator.steps import MessageRejected
from tests.aggregator.chain_parts import TP, Recorder, event_record, hit_record, hits_value, record


async def test_hit_messages_are_kept_as_bytes_and_events_are_decoded():
    recorder = Recorder()
    step = Decode(recorder, honour_dnt=True)
    hits, event, headless = hit_record(10), event_record(11), record(12, hits_value(3))
    for message in (hits, event, headless):
        await step.submit(message)
    first, second, third = recorder.items
    assert first.message is hits and first.is_hits and first.hits == 3 and not first.events  # not decoded
    assert [e.ad_id for e in second.events] == ["b"] and not second.poison and not second.is_hits
    # No header: not a hit batch, and not an event either: poison, with its reason, carrying its offset.
    assert not third.is_hits and not third.events and len(third.poison) == 1 and third.message.offset == 12
    assert [d.rows for d in recorder.items] == [3, 1, 1]
    assert {d.tp for d in recorder.items} == {TP}


async def test_a_refusal_of_the_next_step_reaches_the_caller_and_join_closes_the_next():
    recorder = Recorder()
    step = Decode(recorder, honour_dnt=True)
    recorder.refuse = True
    with pytest.raises(MessageRejected):
        await step.submit(event_record(1))
    step.close()
    await step.join()
    assert recorder.closed and recorder.joined
    with pytest.raises(RuntimeError):
        await step.submit(event_record(2))
