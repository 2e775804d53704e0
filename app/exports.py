"""``GET /v1/exports/{google-ads,microsoft-ads}.csv``: offline-conversion import files (see deliver/exports.py).

Query: ``conversion_name`` (the conversion action / goal name in the platform, required), ``since`` and
``until`` (ISO 8601, UTC; default the last 7 days; at most 90 days apart). Same API keys as the batch API.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.batch import authorised
from app.responses import rejected, unauthorized
from app.services import services
from deliver.exports import PLATFORMS, google_ads_csv, microsoft_ads_csv, query
from ingest.errors import FieldError

router = APIRouter()
MAX_ROWS = 100_000
MAX_DAYS = 90


def _time(raw: str | None, field: str, default: datetime) -> datetime:
    if not raw:
        return default
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(field, "expected an ISO 8601 date or date-time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("/v1/exports/{platform}.csv", summary="Offline-conversion import file for Google Ads or Microsoft Ads",
            responses={401: {}, 404: {}, 422: {}, 503: {}})  # fmt: skip
async def export(request: Request, platform: str) -> Response:
    svc = services(request)
    endpoint = "/v1/exports"
    if not authorised(request, svc.settings.api_keys):
        return unauthorized()
    if platform not in PLATFORMS:
        return JSONResponse({"error": "not_found", "field": "platform", "reason": f"one of {sorted(PLATFORMS)}"}, 404)
    params = request.query_params
    name = params.get("conversion_name", "").strip()
    if not name or len(name) > 100:
        return rejected(endpoint, FieldError("conversion_name", "required, at most 100 characters"))
    now = datetime.fromtimestamp(svc.clock.now_ms() / 1000, tz=UTC)
    try:
        until = _time(params.get("until"), "until", now)
        since = _time(params.get("since"), "since", until - timedelta(days=7))
    except FieldError as exc:
        return rejected(endpoint, exc)
    if not since < until or until - since > timedelta(days=MAX_DAYS):
        return rejected(endpoint, FieldError("since", f"must be before until, at most {MAX_DAYS} days apart"))
    if svc.clickhouse is None:
        return JSONResponse({"error": "unavailable", "reason": "ClickHouse not connected"}, 503)
    rows = await asyncio.to_thread(query, svc.clickhouse, svc.database, platform, since, until, MAX_ROWS)
    body = google_ads_csv(rows, name) if platform == "google-ads" else microsoft_ads_csv(rows, name)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{platform}-conversions.csv"'},
    )
