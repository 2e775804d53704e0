"""The commit step: a written batch's offsets (last + 1 per partition) through the injected consumer."""

import pytest
from aiokafka.structs import TopicPartition

from aggregator.batch import Batch
from aggregator.commit import Commit

TP0, TP1 = TopicPartition("adpulse.events", 0), TopicPartition("adpulse.events", 3)


class Consumer:
    def __init__(self):
        self.commits = []

    async def commit(self, offsets):
        self.commits.append(offsets)


async def test_commits_the_offsets_the_batch_carries():
    consumer = Consumer()
    step = Commit(consumer)
    batch = Batch(started_at=0)
    for tp, offset in [(TP0, 4), (TP1, 9), (TP0, 5)]:
        batch.track(tp, offset, 1)
    await step.submit(batch)
    assert consumer.commits == [{TP0: 6, TP1: 10}]
    step.close()
    with pytest.raises(RuntimeError):
        await step.submit(batch)
    assert len(consumer.commits) == 1
