"""FX rates ``POST /v1/fx-rates`` (idempotent upsert by date and currency) and ``GET /v1/fx-rates``.

A rate is the value of one unit of ``currency`` in the reporting currency on ``date``. The whole request
is validated first: one bad item answers 422 naming its index and field, and nothing is written.
"""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from adpulse.fx.rates import FxRate, FxStore, from_item
from app.batch import authorised
from app.imports import import_items
from app.responses import rejected, unauthorized
from app.services import services
from ingest.errors import FieldError

router = APIRouter()
MAX_ITEMS = 10_000


@router.post("/v1/fx-rates", summary="Import FX rates into the reporting currency (idempotent upsert)",
             responses={401: {}, 413: {}, 422: {}, 503: {}})  # fmt: skip
async def import_rates(request: Request) -> Response:
    svc = services(request)
    items = await import_items(request, "/v1/fx-rates", svc.settings.api_keys, limit=MAX_ITEMS, unit="rates")
    if isinstance(items, Response):
        return items
    rates: list[FxRate] = []
    for index, item in enumerate(items):
        try:
            rates.append(from_item(item, svc.settings.reporting_currency))
        except FieldError as exc:
            return JSONResponse({**exc.as_json(), "index": index}, status_code=422)
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, 503)
    stored = await asyncio.to_thread(FxStore(svc.clickhouse, svc.database).upsert, rates)
    return JSONResponse({"imported": stored, "currency": svc.settings.reporting_currency})


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FieldError(name, "expected a date YYYY-MM-DD") from None


@router.get("/v1/fx-rates", summary="FX rates between two dates (inclusive)", responses={401: {}, 422: {}, 503: {}})
async def list_rates(
    request: Request,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    limit: int = Query(10_000, ge=1, le=100_000),
) -> Response:
    svc = services(request)
    if not authorised(request, svc.settings.api_keys):
        return unauthorized()
    try:
        start, end = _day(from_, "from"), _day(to, "to")
    except FieldError as exc:
        return rejected("/v1/fx-rates", exc)
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, 503)
    rates = await asyncio.to_thread(FxStore(svc.clickhouse, svc.database).between, start, end, limit)
    return JSONResponse(
        {
            "currency": svc.settings.reporting_currency,
            "rates": [
                {"date": r.day.isoformat(), "currency": r.currency, "rate": str(r.rate), "source": r.source}
                for r in rates
            ],
        }
    )
