"""Batch writes into ClickHouse, idempotent on retry through ``insert_deduplication_token``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from aggregator.processor import COLUMNS, ClickDimensions


class ClickHouseWriter:
    def __init__(self, client: Any, database: str) -> None:
        self._client = client
        self._db = database

    async def lookup_clicks(self, click_ids: Iterable[str]) -> dict[str, ClickDimensions]:
        ids = sorted(set(click_ids))
        if not ids:
            return {}
        # db is a validated identifier from config; the ids are a bound parameter.
        sql = (
            f"SELECT click_id, any(ad_id), any(campaign_id), any(source), any(medium) "  # noqa: S608
            f"FROM {self._db}.clicks WHERE click_id IN {{ids:Array(String)}} GROUP BY click_id"
        )
        result = await asyncio.to_thread(self._client.query, sql, parameters={"ids": ids})
        return {row[0]: ClickDimensions(*row[1:]) for row in result.result_rows}

    async def insert(self, rows: Sequence[Sequence[Any]], token: str) -> None:
        """Insert one batch. A retry with the same ``token`` is dropped by ClickHouse, views included."""
        if not rows:
            return
        settings = {
            "insert_deduplication_token": token,
            "deduplicate_blocks_in_dependent_materialized_views": 1,
        }
        await asyncio.to_thread(
            self._client.insert, f"{self._db}.events", rows, column_names=list(COLUMNS), settings=settings
        )
