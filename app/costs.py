"""Cost import ``POST /v1/costs``: spend per ad per day or hour, from ad platforms' reports.

Idempotent upsert by (ad, granularity, period): importing the same period again replaces it. Where an
import covers an ad's hour or day, the KPI views use it instead of the ``cost`` carried by that ad's
impressions and clicks in that period (see README "Costs"). The whole request is validated first:
one bad row answers 422 naming its index and field, and nothing is written.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app import inbound
from app.imports import import_items
from app.services import services
from ingest import normalize as norm
from ingest.errors import FieldError

router = APIRouter()
MAX_ROWS = 10_000
COLUMNS = ["ad_id", "campaign_id", "source", "granularity", "period_start", "cost", "currency"]


def _period(raw: str, granularity: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FieldError("period_start", "expected an ISO 8601 date or UTC date-time") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    aligned = value.replace(minute=0, second=0, microsecond=0)
    if granularity == "day":
        aligned = aligned.replace(hour=0)
    if value != aligned:
        raise FieldError("period_start", f"must start a UTC {granularity}")
    return aligned


def _row(item: Any) -> list[Any]:
    params = inbound.scalar_object(item, "cost")
    granularity = params.get("granularity", "day").strip().lower()
    if granularity not in ("day", "hour"):
        raise FieldError("granularity", "expected day or hour")
    row = {
        "ad_id": norm.text(params.get("ad_id", ""), "ad_id"),
        "campaign_id": norm.text(params.get("campaign_id", ""), "campaign_id"),
        "source": norm.source(norm.text(params.get("source", ""), "source")),
    }
    for name, value in row.items():
        if not value:
            raise FieldError(name, "required")
    cost = norm.money(params.get("cost", ""), "cost")
    if cost is None:
        raise FieldError("cost", "required")
    period = _period(params.get("period_start", ""), granularity)
    currency = norm.currency(params.get("currency", ""), "currency")
    return [row["ad_id"], row["campaign_id"], row["source"], granularity, period, Decimal(cost), currency]


@router.post("/v1/costs", summary="Import spend per ad and day or hour (idempotent upsert)",
             responses={401: {}, 413: {}, 422: {}, 503: {}})  # fmt: skip
async def import_costs(request: Request) -> Response:
    svc = services(request)
    items = await import_items(request, "/v1/costs", svc.settings.api_keys, limit=MAX_ROWS, unit="rows")
    if isinstance(items, Response):
        return items
    rows = []
    for index, item in enumerate(items):
        try:
            rows.append(_row(item))
        except FieldError as exc:
            body = {**exc.as_json(), "index": index}
            return JSONResponse(body, status_code=422)
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, 503)
    await asyncio.to_thread(svc.clickhouse.insert, f"{svc.database}.cost_imports", rows, column_names=COLUMNS)
    return JSONResponse({"imported": len(rows)})
