"""``GET /v1/kpis``: KPI reports by any dimension, for dashboards that do not query ClickHouse directly.

``group_by`` (comma-separated dimensions, ``day``/``hour`` in ``tz``), ``from``/``to`` (inclusive dates in
``tz``), ``dim=value`` filters, ``order_by`` (``-`` for descending), ``limit``, ``format=csv``. The answer:
``{"group_by", "currency", "from", "to", "tz", "rows", "totals"}``; money as decimal strings, counts as
integers, ratios (ctr, cr, roas, roi) as numbers or null.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app import inbound, kpi_request
from app.responses import rejected
from app.services import services
from ingest.errors import FieldError
from schemas.reporting import MEASURES, RATIOS, Money

router = APIRouter()


def json_value(name: str, value: Any, zone: ZoneInfo) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):  # hour: shown in the request's time zone, with its offset
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if name in RATIOS:
        return float(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _records(result: Any, zone: ZoneInfo) -> list[dict[str, Any]]:
    names = list(result.column_names)
    return [
        {name: json_value(name, value, zone) for name, value in zip(names, row, strict=True)}
        for row in result.result_rows
    ]


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue()


@router.get("/v1/kpis", summary="KPI report by any dimension (JSON or CSV)", responses={422: {}, 503: {}})
async def kpis(request: Request) -> Response:
    svc = services(request)
    money = Money(svc.settings.reporting_currency, svc.settings.fx_max_age_days)
    try:
        req = kpi_request.parse(inbound.query(request), money.currency)
        rows_sql, totals_sql, parameters = kpi_request.sql(svc.database, req, money)
    except FieldError as exc:
        return rejected("/v1/kpis", exc)
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, status_code=503)
    client = svc.clickhouse
    rows_result = await asyncio.to_thread(client.query, rows_sql, parameters=parameters)
    rows = _records(rows_result, ZoneInfo(req.tz))
    columns = [*req.group_by, *MEASURES]
    if req.csv:
        return Response(
            to_csv(columns, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="kpis.csv"'},
        )
    totals_result = await asyncio.to_thread(client.query, totals_sql, parameters=parameters)
    (totals,) = _records(totals_result, ZoneInfo(req.tz)) or [dict.fromkeys(MEASURES)]
    return JSONResponse(
        {
            "group_by": list(req.group_by),
            "currency": money.currency,
            "from": req.start.isoformat() if req.start else None,
            "to": req.end.isoformat() if req.end else None,
            "tz": req.tz,
            "rows": rows,
            "totals": totals,
        }
    )
