"""When a batch is handed to the write: full, max age, or min age with the writer idle."""

from adpulse.settings import Settings
from aggregator.batch import Batch
from aggregator.close_policy import ClosePolicy
from tests.aggregator.chain_parts import TP

POLICY = ClosePolicy(max_rows=10, max_bytes=1000, max_events=10, min_seconds=0.1, max_seconds=0.5)


def batch(rows=1, size=10):
    b = Batch(started_at=0)
    b.track(TP, 0, size)
    b.hit_count = rows
    return b


def test_full_by_rows_or_bytes_closes_at_any_age():
    assert POLICY.closes(batch(rows=10), 0, writing=True)
    assert POLICY.closes(batch(size=1000), 0, writing=True)
    assert not POLICY.closes(batch(rows=9, size=999), 0, writing=True)
    assert POLICY.full(batch(rows=10)) and not POLICY.full(batch(rows=9))


def test_full_by_decoded_events_while_hits_count_only_as_rows():
    policy = ClosePolicy(max_rows=100, max_bytes=10**9, max_events=3, min_seconds=0.1, max_seconds=0.5)
    events = batch(rows=0)
    events.events.extend([object(), object()])
    assert not policy.full(events)
    events.events.append(object())
    assert policy.full(events) and policy.closes(events, 0, writing=True)
    assert not policy.full(batch(rows=50))  # hits are bytes: only the row and byte bounds apply


def test_max_age_closes_even_while_writing_min_age_only_when_idle():
    assert POLICY.closes(batch(), 0.5, writing=True)
    assert not POLICY.closes(batch(), 0.3, writing=True)
    assert POLICY.closes(batch(), 0.1, writing=False)
    assert not POLICY.closes(batch(), 0.09, writing=False)


def test_an_empty_batch_never_closes():
    assert not POLICY.closes(Batch(started_at=0), 10, writing=False)


def test_from_settings_min_defaults_to_0_2_never_above_the_max():
    assert ClosePolicy.from_settings(Settings()).min_seconds == 0.2
    assert ClosePolicy.from_settings(Settings(batch_max_seconds=0.1)).min_seconds == 0.1
    assert ClosePolicy.from_settings(Settings(batch_min_seconds=0.1)).min_seconds == 0.1
