"""Server-to-server conversion postbacks: ``GET|POST /postback[/{network}[/{token}]]``.

Parameters come from the query, a form body or a JSON object body (the body wins). Answers 200 only
after Kafka acknowledged the event (acks=all); 503 with Retry-After when Kafka is unavailable; 403
for a wrong or missing network token; 404 for an unknown network; 422 naming the field for bad input,
including macros the network left unresolved. A resend answers 200 with ``"status": "duplicate"``.

The served hot path is ``app.fastpostback`` (RSGI, no framework); these routes document the contract
(OpenAPI) and run the same handler (``app.postback_handler``) when the app is served over ASGI.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.client_ip import client_ip
from app.inbound import request_peer
from app.postback_handler import Postback, handle
from app.services import services

router = APIRouter()
RESPONSES: dict[int | str, dict[str, str]] = {
    403: {"description": "missing or wrong network token"},
    404: {"description": "unknown network"},
    422: {"description": "invalid parameter (the body names the field)"},
    503: {"description": "Kafka unavailable: retry after Retry-After seconds"},
}


async def _handle(request: Request, network: str | None, path_token: str | None) -> Response:
    svc = services(request)
    headers = request.headers
    postback = Postback(
        network=network,
        path_token=path_token,
        raw_query=request.scope.get("query_string", b""),
        body=await request.body() if request.method == "POST" else None,
        content_type=headers.get("content-type", ""),
        signature=headers.get("x-adpulse-signature"),
        headers=headers,
        ip=client_ip(
            headers.get("x-forwarded-for"), request_peer(request), trust_forwarded=svc.settings.trust_forwarded
        ),
    )
    answer = await handle(svc, postback)
    return JSONResponse(answer.body, answer.status, headers=answer.headers or None)


@router.api_route("/postback", methods=["GET", "POST"], summary="Conversion postback", responses=RESPONSES)
async def postback(request: Request) -> Response:
    return await _handle(request, None, None)


@router.api_route("/postback/{network}", methods=["GET", "POST"], summary="Conversion postback of a network",
                  responses=RESPONSES)  # fmt: skip
async def postback_network(request: Request, network: str) -> Response:
    return await _handle(request, network, None)


@router.api_route("/postback/{network}/{token}", methods=["GET", "POST"],
                  summary="Conversion postback of a network, token in the path", responses=RESPONSES)  # fmt: skip
async def postback_network_token(request: Request, network: str, token: str) -> Response:
    return await _handle(request, network, token)
