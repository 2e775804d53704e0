"""Browser endpoints: the impression pixel ``GET /i``, the beacon ``GET|POST /e`` and the snippet ``/t.js``.

A browser cannot fix anything, so these never answer 4xx: an invalid hit still gets its GIF (or 204),
is counted in ``adpulse_requests_rejected_total`` and goes to the rejects topic with the reason.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from app import inbound
from app.fastpixel import publish_scope_hit
from app.responses import GIF, NO_CACHE
from app.services import Services, services
from ingest.errors import FieldError
from ingest.hits import browser_event
from ingest.metrics import REQUESTS_REJECTED
from schemas.events import EventType

router = APIRouter()

SNIPPET = (Path(__file__).parent / "static" / "t.js").read_bytes()
BEACON_TYPES = {t.value: t for t in (EventType.PAGE_VIEW, EventType.CONVERSION, EventType.CUSTOM, EventType.IMPRESSION)}


def browser_answer(path: str) -> tuple[int, bytes, bytes]:
    """What /i and /e answer whatever happens (also used by the size-limit middleware)."""
    return (200, GIF, b"image/gif") if path == "/i" else (204, b"", b"text/plain")


def _reject(svc: Services, endpoint: str, now_ms: int, error: FieldError, raw_query: bytes) -> None:
    REQUESTS_REJECTED.labels(endpoint, error.field).inc()
    svc.publisher.publish_nowait(
        svc.settings.topic_rejects,
        {
            "event_type": "reject",
            "endpoint": endpoint,
            "field": error.field,
            "reason": error.reason,
            "received_at_ms": now_ms,
            "query": raw_query[:2048].decode("utf-8", "replace"),
        },
        None,
    )


def _track(svc: Services, request: Request, endpoint: str, kind: EventType | None, params: dict[str, str]) -> None:
    ctx = inbound.context(
        request, svc.clock.now_ms(), trust_forwarded=svc.settings.trust_forwarded, enricher=svc.enricher
    )
    try:
        if kind is None:
            name = params.get("type", "page_view")
            if name not in BEACON_TYPES:
                raise FieldError("type", f"expected one of {sorted(BEACON_TYPES)}")
            kind = BEACON_TYPES[name]
        if params.get("dnt") == "1" and svc.settings.honour_dnt:
            REQUESTS_REJECTED.labels(endpoint, "dnt").inc()
            return
        event = browser_event(kind, params, ctx)
    except FieldError as exc:
        _reject(svc, endpoint, ctx.now_ms, exc, request.scope.get("query_string", b""))
        return
    svc.publisher.publish_nowait(svc.settings.topic_events, event, event.get("click_id") or event["event_id"])


@router.get("/i", summary="Impression pixel (1x1 GIF)", response_class=Response)
async def impression(request: Request) -> Response:
    """Served by ``app.fastpixel`` in front of the router; this route documents it and does the same."""
    publish_scope_hit(services(request), request.scope)
    return Response(GIF, media_type="image/gif", headers=NO_CACHE)


@router.api_route("/e", methods=["GET", "POST"], summary="Beacon for the snippet: page views, conversions, custom")
async def beacon(request: Request) -> Response:
    svc = services(request)
    try:
        params = inbound.query(request)
        if request.method == "POST":
            params.update(await inbound.body_params(request))
    except FieldError as exc:
        _reject(svc, "/e", svc.clock.now_ms(), exc, request.scope.get("query_string", b""))
    else:
        _track(svc, request, "/e", None, params)
    return Response(status_code=204, headers=NO_CACHE)


@router.get("/t.js", summary="The tracking snippet", response_class=Response)
async def snippet() -> Response:
    return Response(
        SNIPPET,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
