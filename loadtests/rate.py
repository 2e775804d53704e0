"""An open-loop load generator: requests start on a fixed schedule whatever the answers, and latency is
measured from the scheduled start (so queueing delay is not hidden, unlike a closed loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from loadtests.tools import LoadResult


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def _run(base: str, path_for: Callable[[int], str], rate: float, seconds: float) -> LoadResult:
    total = int(rate * seconds)
    latencies: list[float] = []
    ok = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def one(index: int, scheduled: float) -> None:
            nonlocal ok
            try:
                response = await client.get(path_for(index))
                ok += response.status_code < 400
            except httpx.HTTPError:
                pass
            latencies.append(time.perf_counter() - scheduled)

        start = time.perf_counter()
        tasks = []
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    p50, p99 = _quantile(latencies, 0.5), _quantile(latencies, 0.99)
    return LoadResult(total, ok, elapsed, p50 * 1000 if p50 else None, p99 * 1000 if p99 else None)


def open_loop(base: str, path_for: Callable[[int], str], rate: float, seconds: float) -> LoadResult:
    return asyncio.run(_run(base, path_for, rate, seconds))
