"""The API's ClickHouse client: made at start-up if ClickHouse answers, else by a background loop that
retries with backoff, so /readyz, /v1/kpis and /v1/costs work once ClickHouse comes up, without a
restart. Once made, the client needs no reconnecting: clickhouse-connect's HTTP client opens
connections per request, so it recovers by itself when ClickHouse comes back after an outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from app.services import Services

log = logging.getLogger(__name__)


class ClickHouseLink:
    def __init__(
        self,
        services: Services,
        connect: Callable[[], Any],
        *,
        where: str,
        first_delay_s: float = 0.5,
        max_delay_s: float = 5.0,
    ) -> None:
        self._svc = services
        self._connect = connect
        self._where = where  # for logs: host and port, never credentials
        self._first_delay_s = first_delay_s
        self._max_delay_s = max_delay_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect now if ClickHouse answers, else keep trying in the background."""
        if not await self._try_connect():
            self._task = asyncio.create_task(self._retry())

    async def _try_connect(self) -> bool:
        try:
            client = await asyncio.to_thread(self._connect)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is retried; /readyz reports it
            log.warning("ClickHouse at %s not reachable yet: %s", self._where, exc)
            return False
        self._svc.clickhouse = client
        self._svc.duplicates.clickhouse = client
        log.info("connected to ClickHouse at %s", self._where)
        return True

    async def _retry(self) -> None:
        delay = self._first_delay_s
        while True:
            await asyncio.sleep(delay)
            if await self._try_connect():
                return
            delay = min(delay * 2, self._max_delay_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._svc.clickhouse is not None:
            self._svc.clickhouse.close()
