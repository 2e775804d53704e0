import asyncio
import os
import signal

import pytest

from adpulse.shutdown import run_until_stopped


async def test_sigterm_lets_the_work_finish_what_it_holds():
    finished = []

    async def work(stop: asyncio.Event) -> None:
        await stop.wait()
        await asyncio.sleep(0.1)  # the last batch: written and committed
        finished.append(True)

    asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
    assert await run_until_stopped(work, timeout_s=5) is True
    assert finished == [True]


async def test_work_that_overruns_the_timeout_is_cancelled():
    cancelled = []

    async def work(stop: asyncio.Event) -> None:
        await stop.wait()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = asyncio.get_running_loop().time()
    assert await run_until_stopped(work, timeout_s=0.2, stop=stop) is False
    assert cancelled == [True]
    assert asyncio.get_running_loop().time() - started < 5


async def test_work_that_ends_by_itself_or_fails_is_reported():
    async def done(stop: asyncio.Event) -> None:
        return None

    async def fails(stop: asyncio.Event) -> None:
        raise RuntimeError("too many invalid")

    assert await run_until_stopped(done, timeout_s=1) is True
    with pytest.raises(RuntimeError, match="too many invalid"):
        await run_until_stopped(fails, timeout_s=1)
    # The signal handlers were removed: SIGTERM has its default handler again.
    assert not asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
