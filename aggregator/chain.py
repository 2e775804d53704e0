"""The aggregator's chain of steps, built anew for every partition assignment:

    decode (aggregator/decode.py) -> batching (aggregator/batching.py)
        -> write (aggregator/write_step.py, aggregator/batch_writer.py) -> commit (aggregator/commit.py)

Each step has the interface of ``aggregator/steps.py``; the consumer loop (``aggregator/consumer.py``)
submits messages to the first one and polls it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from adpulse.clock import Clock
from adpulse.settings import Settings
from aggregator.batch_writer import BatchWriter
from aggregator.batching import Batching
from aggregator.close_policy import ClosePolicy
from aggregator.commit import Commit, Committer
from aggregator.decode import Decode
from aggregator.poll_size import PollSize
from aggregator.steps import Step
from aggregator.write_step import WriteStep
from aggregator.writer import ClickHouseStore


def build_chain(
    settings: Settings,
    store: ClickHouseStore,
    clock: Clock,
    consumer: Committer,
    producer: AIOKafkaProducer,
    stop: asyncio.Event,
    poll_size: PollSize,
) -> Step[Any]:
    """The first step of a new chain (``producer`` publishes dead letters and the outbox)."""
    write = WriteStep(Commit(consumer), BatchWriter(settings, store, producer, clock, stop).write)
    batching = Batching(write, ClosePolicy.from_settings(settings), clock, poll_size, writing=lambda: write.busy)
    return Decode(batching, honour_dnt=settings.honour_dnt)
