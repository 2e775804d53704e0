from aiokafka.structs import TopicPartition

from aggregator.batch import Batch

TP0 = TopicPartition("adpulse.events", 0)
TP1 = TopicPartition("adpulse.events", 1)


def test_commit_offsets_are_last_plus_one_per_partition():
    batch = Batch(started_at=0)
    for tp, offset in [(TP0, 5), (TP0, 6), (TP1, 10)]:
        batch.track(tp, offset, 10)
    assert batch.commit_offsets() == {TP0: 7, TP1: 11}


def test_dedup_token_depends_only_on_offsets():
    def token(order):
        batch = Batch(started_at=0)
        for tp, offset in order:
            batch.track(tp, offset, 10)
        return batch.dedup_token()

    assert token([(TP0, 1), (TP1, 4), (TP0, 2)]) == token([(TP1, 4), (TP0, 1), (TP0, 2)])
    assert token([(TP0, 1), (TP0, 2)]) != token([(TP0, 1), (TP0, 3)])
