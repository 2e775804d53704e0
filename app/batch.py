"""Batch API ``POST /v1/events``: a JSON array or NDJSON of events from a server.

Limits: at most ``MAX_EVENTS`` events and 1 MiB per request (413 above). Each event is an object with
``type`` (impression, click, page_view, conversion, custom) and the same fields as the endpoints'
parameters; send ``eid`` (and ``txid`` for conversions) so a retried request maps to the same events.
The answer lists, per event, ``accepted`` with its ``event_id`` or ``rejected`` with the field and
reason; accepted events are acknowledged by Kafka (acks=all) before the answer, else 503 for all.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app import inbound
from app.responses import rejected, unauthorized, unavailable
from app.services import services
from ingest.errors import FieldError
from ingest.hits import HitContext, browser_event, click, conversion
from ingest.ids import new_click_id
from ingest.networks import DEFAULT_NETWORK
from ingest.publisher import PublishUnavailable
from schemas.events import EventType

router = APIRouter()
MAX_EVENTS = 1000
TYPES = {t.value: t for t in EventType}


def _items(body: bytes, content_type: str) -> list[Any]:
    try:
        if content_type == "application/x-ndjson" or not body.lstrip().startswith(b"["):
            items = [orjson.loads(line) for line in body.splitlines() if line.strip()]
        else:
            items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FieldError("body", f"not valid JSON or NDJSON: {exc}") from None
    if not isinstance(items, list) or not items:
        raise FieldError("body", "expected a non-empty JSON array or NDJSON lines")
    return items


def _event(item: Any, ctx: HitContext) -> dict[str, Any]:
    params = inbound.scalar_object(item, "event")
    kind = TYPES.get(params.pop("type", ""))
    if kind is None:
        raise FieldError("type", f"expected one of {sorted(TYPES)}")
    if kind is EventType.CONVERSION:
        return conversion(params, ctx, network=params.pop("network", DEFAULT_NETWORK) or DEFAULT_NETWORK)
    if kind is EventType.CLICK:
        return click(params, ctx, params.get("click_id") or new_click_id(), params.get("url", ""))
    return browser_event(kind, params, ctx)


def authorised(request: Request, keys: list[str]) -> bool:
    if not keys:
        return True
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip().encode()
    return any(hmac.compare_digest(given, key.encode()) for key in keys)


@router.post("/v1/events", summary="Batch of events (JSON array or NDJSON)",
             responses={401: {}, 413: {}, 422: {}, 503: {}})  # fmt: skip
async def events(request: Request) -> Response:
    svc = services(request)
    if not authorised(request, svc.settings.api_keys):
        return unauthorized()
    body = await request.body()  # the limits middleware answers 413 past 1 MiB
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        items = _items(body, content_type)
    except FieldError as exc:
        return rejected("/v1/events", exc)
    if len(items) > MAX_EVENTS:
        return JSONResponse({"error": "too_large", "field": "body", "reason": f"more than {MAX_EVENTS} events"}, 413)
    ctx = HitContext(now_ms=svc.clock.now_ms())
    results: list[dict[str, Any]] = []
    accepted: list[tuple[dict[str, Any], str]] = []
    for index, item in enumerate(items):
        try:
            event = _event(item, ctx)
        except FieldError as exc:
            results.append({"index": index, "status": "rejected", "field": exc.field, "reason": exc.reason})
            continue
        accepted.append((event, event.get("click_id") or event["event_id"]))
        results.append({"index": index, "status": "accepted", "event_id": event["event_id"]})
    if accepted:
        try:
            await svc.publisher.publish_many(svc.settings.topic_events, accepted)
        except PublishUnavailable:
            return unavailable()
    return JSONResponse({"accepted": len(accepted), "rejected": len(items) - len(accepted), "results": results})
