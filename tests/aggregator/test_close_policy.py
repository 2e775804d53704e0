"""When a batch is handed to the write: full, max age, or min age with the writer idle."""

from adpulse.settings import Settings
from aggregator.batch import Batch
from aggregator.close_policy import ClosePolicy
from tests.aggregator.chain_parts import TP

POLICY = ClosePolicy(max_rows=10, max_bytes=1000, min_seconds=0.1, max_seconds=0.5)


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
