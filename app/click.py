"""Click ``GET /c``: record the click, then redirect to the landing page with the click id."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from adpulse.settings import Settings
from app import inbound
from app.redirects import with_params
from app.responses import rejected, unavailable
from app.services import services
from ingest.errors import FieldError
from ingest.hits import UTM, click
from ingest.ids import new_click_id
from ingest.publisher import PublishUnavailable
from ingest.query import parse_params
from ingest.visitor import new_visitor_id, set_cookie_header
from schemas.events import PLATFORM_CLICK_IDS, SUB_IDS

router = APIRouter()


@router.get(
    "/c",
    summary="Click: record it, then 302 to the landing page with click_id added",
    response_class=RedirectResponse,
    responses={400: {"description": "url missing or not on the allowlist, or a bad parameter"}},
)
async def click_redirect(request: Request) -> Response:
    svc = services(request)
    try:
        query = inbound.query(request)
        url = svc.redirects.check(query.get("url", "").strip())
        click_id = new_click_id()
        ctx = inbound.context(
            request, svc.clock.now_ms(), trust_forwarded=svc.settings.trust_forwarded, enricher=svc.enricher
        )
        event = click(query, ctx, click_id, url)
    except FieldError as exc:
        return rejected("/c", exc, status=400)
    try:
        await svc.publisher.publish(svc.settings.topic_events, event, key=click_id)
    except PublishUnavailable:
        return unavailable()
    present = parse_params(urlsplit(url).query.encode(), max_params=256)
    carried = {k: query[k] for k in (*UTM, *PLATFORM_CLICK_IDS, *SUB_IDS) if query.get(k) and k not in present}
    param = svc.redirects.click_id_param(url)
    target = with_params(url, {**carried, param: click_id})
    response = RedirectResponse(
        target, status_code=302, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer-when-downgrade"}
    )
    # The visitor's first-party id on the tracking domain: kept, or a new one (uniques, later hits).
    visitor = ctx.visitor_cookie or new_visitor_id()
    response.headers.append("set-cookie", set_cookie_header(visitor, secure=_https(request, svc.settings)))
    return response


def _https(request: Request, settings: Settings) -> bool:
    if settings.trust_forwarded and request.headers.get("x-forwarded-proto"):
        return request.headers["x-forwarded-proto"].split(",")[0].strip().lower() == "https"
    return request.url.scheme == "https"
