"""Has this postback been accepted before? Answered from a bounded in-process memory of recent ids and
from ClickHouse's ``event_ids``. A "no" is never a promise: the aggregator deduplicates anyway, this
only lets the API tell a resending network that it was a duplicate."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

log = logging.getLogger(__name__)


class RecentIds:
    def __init__(self, capacity: int = 100_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


class DuplicateCheck:
    def __init__(self, database: str, timeout_s: float = 0.3) -> None:
        self._recent = RecentIds()
        self._db = database
        self._timeout_s = timeout_s
        self.clickhouse: Any | None = None

    def remember(self, event_id: str) -> None:
        self._recent.add(event_id)

    async def seen(self, event_id: str) -> bool:
        if event_id in self._recent:
            return True
        if self.clickhouse is None:
            return False
        sql = f"SELECT count() FROM {self._db}.event_ids WHERE event_id = {{id:UUID}}"  # noqa: S608 - db from config
        try:
            result = await asyncio.wait_for(
                asyncio.to_thread(self.clickhouse.query, sql, parameters={"id": event_id}), self._timeout_s
            )
        except Exception as exc:  # noqa: BLE001 - ClickHouse down or slow: fall back to "not known"
            log.debug("duplicate check skipped: %s", exc)
            return False
        return bool(result.result_rows and result.result_rows[0][0])
