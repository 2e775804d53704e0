"""The write's retry policy: the same call again with backoff until it succeeds; a stop ends it."""

import asyncio

import pytest

from aggregator import metrics
from aggregator.retry import next_delay, retried


async def test_the_same_call_is_retried_until_it_succeeds(monkeypatch):
    sleeps = []

    async def sleep(delay):
        sleeps.append(delay)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    calls = []

    async def attempt():
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("down")
        return "ok"

    errors = metrics.INSERT_ERRORS._value.get()
    assert await retried("insert", attempt, asyncio.Event()) == "ok"
    assert len(calls) == 4 and sleeps == [0.1, 0.2, 0.4]
    assert metrics.INSERT_ERRORS._value.get() == errors + 3


async def test_a_stop_ends_the_retries_with_the_failure():
    stop = asyncio.Event()
    stop.set()

    async def attempt():
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        await retried("lookup", attempt, stop)


def test_backoff_is_capped_at_five_seconds():
    assert next_delay(0.1) == 0.2 and next_delay(4.0) == 5.0 and next_delay(5.0) == 5.0
