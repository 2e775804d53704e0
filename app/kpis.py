"""``GET /v1/kpis``: rows of the KPI views, for dashboards that do not query ClickHouse directly."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.services import services

router = APIRouter()

# group_by -> (view, its dimension columns). The view name comes from this table, never from the request.
VIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ad_id": ("ad_kpis", ("ad_id", "campaign_id", "source")),
    "campaign_id": ("campaign_kpis", ("campaign_id",)),
    "source": ("source_kpis", ("source",)),
}


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@router.get("/v1/kpis", summary="KPIs per ad, campaign or source")
async def kpis(
    request: Request,
    group_by: Literal["ad_id", "campaign_id", "source"] = "ad_id",
    limit: int = Query(1000, ge=1, le=10_000),
) -> JSONResponse:
    svc = services(request)
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, status_code=503)
    view, dims = VIEWS[group_by]
    # S608 below: view and columns come from VIEWS, the database from config; limit is bound.
    sql = f"SELECT * FROM {svc.database}.{view} ORDER BY {', '.join(dims)} LIMIT {{limit:UInt32}}"  # noqa: S608
    result = await asyncio.to_thread(svc.clickhouse.query, sql, parameters={"limit": limit})
    rows = [
        {name: _json_value(value) for name, value in zip(result.column_names, row, strict=True)}
        for row in result.result_rows
    ]
    return JSONResponse({"group_by": group_by, "rows": rows})
