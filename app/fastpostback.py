"""Postbacks without the framework's per-request cost, answered by the RSGI front door (``app.frontdoor``).

Same handler as the documented FastAPI routes (``app.postback_handler``). A request this path does not
take exactly as the routes would (another method, another path shape, anything near a size limit) is
handed to the FastAPI app, which answers it as before (405, 404, 414, 431, 413).
"""

from __future__ import annotations

import orjson

from adpulse.logs import REQUEST_ID
from app.client_ip import client_ip, peer_host
from app.limits import DEFAULT_BODY_LIMIT, MAX_HEADERS, MAX_TARGET, too_large
from app.postback_handler import Postback, handle
from app.request_id import checked
from app.rsgi import HTTPProtocol, Scope
from app.services import Services
from ingest.metrics import REQUESTS_REJECTED

PREFIX = "/postback/"
JSON = ("content-type", "application/json")


def route(path: str) -> tuple[str | None, str | None] | None:
    """(network, token) from the path as the routes match it; None when no route matches."""
    if path == "/postback":
        return None, None
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX) :].split("/")
    if all(parts) and len(parts) <= 2:
        return parts[0], parts[1] if len(parts) == 2 else None
    return None


def _within_limits(scope: Scope) -> bool:
    """Clearly inside every limit of ``app.limits`` (a percent-encoded path is at most 3x the decoded one)."""
    if 3 * len(scope.path) + len(scope.query_string.encode()) > MAX_TARGET:
        return False
    headers = scope.headers
    if sum(len(name) + len(value) for name, value in headers.items()) > MAX_HEADERS:
        return False
    length = headers.get("content-length")
    return length is None or (length.isdigit() and int(length) <= DEFAULT_BODY_LIMIT)


async def _body(proto: HTTPProtocol) -> bytes | None:
    """The request body, or None past the limit (a chunked body has no Content-Length to check first)."""
    body = bytearray()
    async for chunk in proto:
        body += chunk
        if len(body) > DEFAULT_BODY_LIMIT:
            return None
    return bytes(body)


async def serve(svc: Services, scope: Scope, proto: HTTPProtocol) -> bool:
    """Answer the postback; False (nothing sent) when the FastAPI app must answer it."""
    matched = route(scope.path)
    if matched is None or scope.method not in ("GET", "POST") or not _within_limits(scope):
        return False
    headers = scope.headers
    body: bytes | None = None
    if scope.method == "POST":
        body = await _body(proto)
        if body is None:
            REQUESTS_REJECTED.labels(scope.path, "body").inc()
            proto.response_bytes(413, [JSON], too_large("body", f"body larger than {DEFAULT_BODY_LIMIT} bytes"))
            return True
    postback = Postback(
        network=matched[0],
        path_token=matched[1],
        raw_query=scope.query_string.encode(),
        body=body,
        content_type=headers.get("content-type", ""),
        signature=headers.get("x-adpulse-signature"),
        headers=dict(headers.items()),
        ip=client_ip(
            headers.get("x-forwarded-for"), peer_host(scope.client), trust_forwarded=svc.settings.trust_forwarded
        ),
    )
    rid = checked(headers.get("x-request-id", "").encode("latin-1") or None)
    token = REQUEST_ID.set(rid)  # in every log line of this postback (adpulse.logs), as the ASGI routes do
    try:
        answer = await handle(svc, postback)
    finally:
        REQUEST_ID.reset(token)
    answer_headers = [JSON, *answer.headers.items(), ("x-request-id", rid)]
    proto.response_bytes(answer.status, answer_headers, orjson.dumps(answer.body))
    return True
