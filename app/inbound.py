"""Reading a request: strict parameters, the browser context (truncated IP, user agent, referrer)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from ingest import normalize as norm
from ingest.errors import FieldError
from ingest.hits import HitContext
from ingest.query import parse_params
from ingest.visitor import from_cookie_header


def query(request: Request) -> dict[str, str]:
    raw: bytes = request.scope.get("query_string", b"")
    return parse_params(raw)


def context(request: Request, now_ms: int, *, trust_forwarded: bool) -> HitContext:
    headers = request.headers
    ip = ""
    if trust_forwarded and headers.get("x-forwarded-for"):
        ip = headers["x-forwarded-for"].split(",")[0]
    elif request.client is not None:
        ip = request.client.host
    return HitContext(
        now_ms=now_ms,
        user_agent=headers.get("user-agent", "")[:512],
        client_ip=norm.truncate_ip(ip),
        referrer=headers.get("referer", "")[:2048],
        visitor_cookie=from_cookie_header(headers.get("cookie", "")),
    )


def scalar_object(value: Any, field: str) -> dict[str, str]:
    """A JSON object of scalars as string parameters (numbers keep their exact text via str())."""
    if not isinstance(value, dict):
        raise FieldError(field, "expected a JSON object")
    params: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            params[key] = "1" if item else "0"
        elif isinstance(item, (str, int, float)):
            params[key] = str(item)
        elif item is not None:
            raise FieldError(str(key)[:64], "expected a string or a number")
    return params


async def body_params(request: Request) -> dict[str, str]:
    """Form (urlencoded) or JSON object body as parameters; empty body -> {}."""
    body = await request.body()
    if not body.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            return scalar_object(orjson.loads(body), "body")
        except orjson.JSONDecodeError:
            raise FieldError("body", "not valid JSON") from None
    if content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        return parse_params(body.strip())
    raise FieldError("content-type", f"unsupported {content_type!r}: use a form, JSON or query parameters")
