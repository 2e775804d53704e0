from aiokafka.structs import TopicPartition

from aggregator.batch import Batch
from aggregator.processor import decode
from ingest import params

TP0 = TopicPartition("adpulse.events", 0)
TP1 = TopicPartition("adpulse.events", 1)


def _event(eid):
    import orjson

    return decode(orjson.dumps(params.impression({"ad_id": "a", "eid": eid}, 1)))


def test_commit_offsets_are_last_plus_one_per_partition():
    batch = Batch(started_at=0)
    for tp, offset in [(TP0, 5), (TP0, 6), (TP1, 10)]:
        batch.track(tp, offset)
    assert batch.commit_offsets() == {TP0: 7, TP1: 11}


def test_duplicate_event_ids_in_a_batch_are_dropped():
    batch = Batch(started_at=0)
    for eid in ["a", "b", "a"]:
        batch.add(_event(eid))
    assert (len(batch.events), batch.duplicates) == (2, 1)


def test_dedup_token_depends_only_on_offsets():
    def token(order):
        batch = Batch(started_at=0)
        for tp, offset in order:
            batch.track(tp, offset)
        return batch.dedup_token()

    assert token([(TP0, 1), (TP1, 4), (TP0, 2)]) == token([(TP1, 4), (TP0, 1), (TP0, 2)])
    assert token([(TP0, 1), (TP0, 2)]) != token([(TP0, 1), (TP0, 3)])
