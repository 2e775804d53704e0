"""Reading a request: strict parameters, the browser context (truncated IP, user agent, referrer)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from app.client_ip import client_ip
from ingest import normalize as norm
from ingest.enrich import NONE as NO_TRAITS
from ingest.enrich import Enricher
from ingest.errors import FieldError
from ingest.hits import HitContext
from ingest.presets import flatten
from ingest.query import parse_params
from ingest.visitor import from_cookie_header


def query(request: Request) -> dict[str, str]:
    raw: bytes = request.scope.get("query_string", b"")
    return parse_params(raw)


def context(request: Request, now_ms: int, *, trust_forwarded: bool, enricher: Enricher | None = None) -> HitContext:
    """The browser context of a request, enriched (``ingest.enrich``) when an ``enricher`` is given."""
    headers = request.headers
    ip = client_ip(headers.get("x-forwarded-for"), request_peer(request), trust_forwarded=trust_forwarded)
    user_agent = headers.get("user-agent", "")[:512]
    truncated = norm.truncate_ip(ip)
    return HitContext(
        now_ms=now_ms,
        user_agent=user_agent,
        traits=enricher.traits(user_agent, truncated) if enricher is not None else NO_TRAITS,
        client_ip=truncated,
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


def request_peer(request: Request) -> str:
    return request.client.host if request.client is not None else ""


async def body_params(request: Request, *, nested: bool = False) -> dict[str, str]:
    """Form (urlencoded) or JSON object body as parameters; empty body -> {}. ``nested``: a JSON body
    may nest objects and lists, read as dotted paths (``data.purchase.transaction``)."""
    return parse_body(await request.body(), request.headers.get("content-type", ""), nested=nested)


def parse_body(body: bytes, content_type_header: str, *, nested: bool = False) -> dict[str, str]:
    if not body.strip():
        return {}
    content_type = content_type_header.split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            document = orjson.loads(body)
            if nested and isinstance(document, dict):
                return flatten(document)
            return scalar_object(document, "body")
        except orjson.JSONDecodeError:
            raise FieldError("body", "not valid JSON") from None
    if content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        return parse_params(body.strip())
    raise FieldError("content-type", f"unsupported {content_type!r}: use a form, JSON or query parameters")
