"""Server-to-server conversion postbacks: ``GET|POST /postback[/{network}[/{token}]]``.

Parameters come from the query, a form body or a JSON object body (the body wins). Answers 200 only
after Kafka acknowledged the event (acks=all); 503 with Retry-After when Kafka is unavailable; 403
for a wrong or missing network token; 404 for an unknown network; 422 naming the field for bad input,
including macros the network left unresolved. A resend answers 200 with ``"status": "duplicate"``.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app import inbound
from app.responses import rejected, unavailable
from app.services import services
from ingest.errors import FieldError
from ingest.hits import HitContext, conversion
from ingest.metrics import POSTBACK_AUTH_FAILURES
from ingest.networks import DEFAULT_NETWORK, NetworkConfig
from ingest.publisher import PublishUnavailable

router = APIRouter()
log = logging.getLogger(__name__)
RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "missing or wrong network token"},
    404: {"description": "unknown network"},
    422: {"description": "invalid parameter (the body names the field)"},
    503: {"description": "Kafka unavailable: retry after Retry-After seconds"},
}


def _refusal(
    request: Request, config: NetworkConfig, token: str | None, trust_forwarded: bool
) -> tuple[str, str] | None:
    """Why a postback is not authentic, as (field, reason), or None."""
    forwarded = request.headers.get("x-forwarded-for", "") if trust_forwarded else ""
    ip = forwarded.split(",")[0].strip() or (request.client.host if request.client else "")
    if not config.ip_ok(ip):
        return "client_ip", "source address not allowed for this network"
    if not config.token_ok(token):
        return "token", "missing or wrong token"
    if not config.signature_ok(request.scope.get("query_string", b""), request.headers.get("x-adpulse-signature")):
        return "sig", "missing or wrong signature"
    return None


async def _handle(request: Request, network: str, path_token: str | None) -> Response:
    svc = services(request)
    config = svc.settings.networks.get(network)
    if config is None:
        return JSONResponse({"error": "unknown_network", "field": "network", "reason": network[:64]}, 404)
    preset = config.preset_rules
    try:
        params = inbound.query(request)
        if request.method == "POST":
            params.update(await inbound.body_params(request, nested=preset is not None))
    except FieldError as exc:
        return rejected("/postback", exc)
    token = path_token or params.pop("token", None)
    if preset is not None:  # the network's own names, status words and secret (ingest/presets.py)
        token = token or preset.token(request.headers, params)
        params = preset.translate(params)
    refusal = _refusal(request, config, token, svc.settings.trust_forwarded)
    if refusal is not None:
        field, reason = refusal
        POSTBACK_AUTH_FAILURES.labels(network).inc()
        log.warning("postback refused for network %s: %s", network[:64], reason)  # never the secret itself
        return JSONResponse({"error": "forbidden", "field": field, "reason": reason}, 403)
    params.pop("token", None)
    params.pop("sig", None)
    params.pop("network", None)
    try:
        event = conversion(params, HitContext(svc.clock.now_ms()), network=network, statuses=config.status_words())
    except FieldError as exc:
        return rejected("/postback", exc)
    event_id = event["event_id"]
    if svc.duplicates.recent(event_id):
        return JSONResponse({"status": "duplicate", "event_id": event_id})
    # Ask ClickHouse while Kafka acknowledges: publishing a duplicate is harmless (the aggregator drops
    # it), so the answer waits for the slower of the two, not for both in turn.
    stored = asyncio.create_task(svc.duplicates.stored(event_id))
    try:
        await svc.publisher.publish(svc.settings.topic_events, event, key=event["click_id"])
    except PublishUnavailable:
        stored.cancel()
        return unavailable()
    svc.duplicates.remember(event_id)
    status = "duplicate" if await stored else "accepted"
    return JSONResponse({"status": status, "event_id": event_id})


@router.api_route("/postback", methods=["GET", "POST"], summary="Conversion postback", responses=RESPONSES)
async def postback(request: Request) -> Response:
    network = request.query_params.get("network", DEFAULT_NETWORK)
    return await _handle(request, network, None)


@router.api_route("/postback/{network}", methods=["GET", "POST"], summary="Conversion postback of a network",
                  responses=RESPONSES)  # fmt: skip
async def postback_network(request: Request, network: str) -> Response:
    return await _handle(request, network, None)


@router.api_route("/postback/{network}/{token}", methods=["GET", "POST"],
                  summary="Conversion postback of a network, token in the path", responses=RESPONSES)  # fmt: skip
async def postback_network_token(request: Request, network: str, token: str) -> Response:
    return await _handle(request, network, token)
