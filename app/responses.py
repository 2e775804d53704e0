"""Answers shared by the endpoints: the GIF, no-cache headers, JSON errors, 503 with Retry-After."""

from __future__ import annotations

import base64

from fastapi.responses import JSONResponse

from ingest.errors import FieldError
from ingest.metrics import REQUESTS_REJECTED

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "X-Content-Type-Options": "nosniff",
}
RETRY_AFTER_S = "5"


def rejected(endpoint: str, error: FieldError, status: int = 422) -> JSONResponse:
    REQUESTS_REJECTED.labels(endpoint, error.field).inc()
    return JSONResponse(error.as_json(), status_code=status)


def unavailable() -> JSONResponse:
    return JSONResponse(
        {"error": "unavailable", "reason": "event store unavailable, retry later"},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


def unauthorized() -> JSONResponse:
    return JSONResponse({"error": "unauthorized", "field": "authorization", "reason": "missing or wrong API key"}, 401)
