"""``GET /v1/freshness``: how old the newest stored event is, for the dashboard's freshness badge.

``newest_received_at`` is when the API took the newest event in, ``newest_inserted_at`` when ClickHouse
stored the newest row; ``age_seconds`` is now minus ``newest_received_at`` (the clock is injected).
Only the last ``WINDOW_DAYS`` are looked at (partition pruning); older than that answers ``null``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.services import services

router = APIRouter()
WINDOW_DAYS = 7


def _iso(value: datetime | None) -> str | None:
    if value is None or value.year < 1971:  # max() over no rows is the epoch in ClickHouse
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@router.get("/v1/freshness", summary="Age of the newest stored event")
async def freshness(request: Request) -> JSONResponse:
    svc = services(request)
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, status_code=503)
    now_ms = svc.clock.now_ms()
    # S608: only the configured database name is formatted in; values are bound.
    sql = (
        f"SELECT max(received_at), max(inserted_at), count() FROM {svc.database}.events "  # noqa: S608
        "WHERE received_at >= fromUnixTimestamp64Milli({now_ms:Int64}) - INTERVAL {days:UInt16} DAY "
        "AND event_type != 'attribution'"
    )
    result = await asyncio.to_thread(svc.clickhouse.query, sql, parameters={"now_ms": now_ms, "days": WINDOW_DAYS})
    received, inserted, count = result.result_rows[0]
    newest = _iso(received) if count else None
    age = None
    if newest is not None:
        age = round(max(0.0, now_ms / 1000 - datetime.fromisoformat(newest).timestamp()), 3)
    return JSONResponse({
        "newest_received_at": newest,
        "newest_inserted_at": _iso(inserted) if count else None,
        "age_seconds": age,
        "window_days": WINDOW_DAYS,
    })  # fmt: skip
