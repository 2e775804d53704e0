"""The API's ClickHouse client is made by a retry loop when ClickHouse is down at start (the real
engine stands in for ClickHouse coming up; tests/integration/test_clickhouse_reconnect.py does it
over HTTP with the API as a process)."""

import asyncio
import itertools

import clickhouse_connect

from adpulse.clock import SystemClock
from adpulse.kafka import client_options
from adpulse.settings import load_settings
from app.clickhouse_link import ClickHouseLink
from app.duplicates import DuplicateCheck
from app.redirects import RedirectPolicy
from app.services import Services
from ingest.publisher import Publisher


def services():
    settings = load_settings()
    return Services(
        settings=settings,
        clock=SystemClock(),
        publisher=Publisher(client_options(settings), ack_timeout_s=1, max_pending=1),
        redirects=RedirectPolicy([], {}),
        duplicates=DuplicateCheck("adpulse"),
        database="adpulse",
    )


def client_of(svc):  # read afresh: the loop sets it while the test waits
    return svc.clickhouse


async def test_connects_in_the_background_with_backoff_once_clickhouse_answers():
    svc = services()
    attempts: list[float] = []
    loop = asyncio.get_running_loop()

    def connect():
        attempts.append(loop.time())
        if len(attempts) < 4:
            raise OSError("connection refused")
        return clickhouse_connect.get_client(dsn="chdb://")

    link = ClickHouseLink(svc, connect, where="test", first_delay_s=0.05, max_delay_s=0.1)
    await link.start()
    assert svc.clickhouse is None  # the first attempt failed: start() does not wait
    for _ in range(500):
        if client_of(svc) is not None:
            break
        await asyncio.sleep(0.01)
    client = client_of(svc)
    assert client is not None and svc.duplicates.clickhouse is client
    assert client.query("SELECT 1").result_rows == [(1,)]
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(attempts) == 4 and gaps[0] >= 0.045 and gaps[1] >= 0.09 and gaps[2] >= 0.09  # doubled, capped
    await link.stop()


async def test_stop_cancels_the_retries():
    svc = services()
    calls = []

    def refuse():
        calls.append(1)
        raise OSError("connection refused")

    link = ClickHouseLink(svc, refuse, where="test", first_delay_s=0.01, max_delay_s=0.01)
    await link.start()
    await asyncio.sleep(0.1)
    await link.stop()
    seen = len(calls)
    await asyncio.sleep(0.1)
    assert seen >= 2 and len(calls) == seen and svc.clickhouse is None
