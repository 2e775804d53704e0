"""Pixel ``GET /i``, click redirect ``GET /c`` and postback ``GET|POST /postback``."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from app.redirects import with_params
from app.services import services
from ingest import params
from ingest.errors import FieldError
from ingest.ids import new_click_id
from ingest.metrics import REQUESTS_REJECTED
from ingest.publisher import PublishUnavailable

router = APIRouter()

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "X-Content-Type-Options": "nosniff",
}
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id")
RETRY_AFTER_S = "5"


def _rejected(endpoint: str, error: FieldError, status: int = 400) -> JSONResponse:
    REQUESTS_REJECTED.labels(endpoint, error.field).inc()
    return JSONResponse(error.as_json(), status_code=status)


def _unavailable(exc: PublishUnavailable) -> JSONResponse:
    return JSONResponse(
        {"error": "unavailable", "reason": "event store unavailable, retry later"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


@router.get("/i", summary="Impression pixel", response_class=Response)
async def impression(request: Request) -> Response:
    svc = services(request)
    try:
        event = params.impression(request.query_params, svc.clock.now_ms())
    except FieldError as exc:
        REQUESTS_REJECTED.labels("/i", exc.field).inc()
    else:
        await svc.publisher.publish_nowait(event, key=event["ad_id"] or event["event_id"])
    return Response(GIF, media_type="image/gif", headers=NO_CACHE)


@router.get("/c", summary="Click: record, then redirect to the landing page", response_class=RedirectResponse)
async def click(request: Request) -> Response:
    svc = services(request)
    query = request.query_params
    try:
        url = svc.redirects.check(query.get("url", "").strip())
        click_id = new_click_id()
        event = params.click(query, svc.clock.now_ms(), click_id, url)
    except FieldError as exc:
        return _rejected("/c", exc)
    try:
        await svc.publisher.publish(event, key=click_id)
    except PublishUnavailable as exc:
        return _unavailable(exc)
    present = {k for k, _ in parse_qsl(urlsplit(url).query)}
    carried = {k: query[k] for k in UTM_PARAMS if query.get(k) and k not in present}
    target = with_params(url, {**carried, "click_id": click_id})
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


@router.api_route("/postback", methods=["GET", "POST"], summary="Server-to-server conversion postback")
async def postback(request: Request) -> Response:
    svc = services(request)
    values = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    try:
        event = params.conversion(values, svc.clock.now_ms())
    except FieldError as exc:
        return _rejected("/postback", exc, status=422)
    try:
        await svc.publisher.publish(event, key=event["click_id"])
    except PublishUnavailable as exc:
        return _unavailable(exc)
    return JSONResponse({"status": "accepted", "event_id": event["event_id"]})
