"""``GET /i`` without the framework's per-request cost, answered by the RSGI front door (``app.frontdoor``).

The route in ``app.pixel`` stays the documented contract (OpenAPI) and does the same thing from an ASGI
scope. The hit is forwarded raw (``ingest.rawhit``): parsing and validation happen in the aggregator,
which publishes invalid hits to the rejects topic with the reason. Headers are read by name
(``scope.headers.get``, a lookup in granian's Rust header map), so reading one more (a cookie) is one call.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from app.client_ip import client_ip, peer_host
from app.limits import MAX_TARGET
from app.responses import GIF, NO_CACHE
from app.rsgi import HTTPProtocol, Scope
from app.services import Services
from ingest.metrics import REQUESTS_REJECTED
from ingest.rawhit import fast_truncate_ip, raw_hit
from ingest.visitor import from_cookie_header

GIF_HEADERS = [("content-type", "image/gif"), *((name.lower(), value) for name, value in NO_CACHE.items())]


def publish_hit(svc: Services, query: bytes, user_agent: str, referrer: str, ip: str, cookie: str = "") -> None:
    """Hand the raw hit to the publisher's bounded queue (never waits on Kafka). ``cookie``: the request's
    Cookie header, whose ``adpulse_vid`` travels in the raw hit as the visitor id (ingest.visitor)."""
    if len(query) > MAX_TARGET:
        REQUESTS_REJECTED.labels("/i", "url").inc()
        return
    visitor = from_cookie_header(cookie) if cookie else ""
    truncated = fast_truncate_ip(ip)
    enrichment = svc.enricher.hit_fields(user_agent, truncated)
    hit, key = raw_hit(query, user_agent, truncated, referrer, svc.clock.now_ms(), visitor, enrichment)
    svc.publisher.publish_hit(hit, key)


def publish_scope_hit(svc: Services, scope: MutableMapping[str, Any]) -> None:
    """The same from an ASGI scope (the documented FastAPI route)."""
    headers = {name: value.decode("latin-1") for name, value in scope["headers"]}
    client = scope.get("client")
    ip = client_ip(headers.get(b"x-forwarded-for"), client[0] if client else "",
                   trust_forwarded=svc.settings.trust_forwarded)  # fmt: skip
    publish_hit(svc, scope["query_string"], headers.get(b"user-agent", ""), headers.get(b"referer", ""), ip,
                headers.get(b"cookie", ""))  # fmt: skip


def pixel(svc: Services, scope: Scope, proto: HTTPProtocol) -> None:
    headers = scope.headers
    trusted = svc.settings.trust_forwarded
    ip = client_ip(headers.get("x-forwarded-for"), peer_host(scope.client), trust_forwarded=trusted)
    publish_hit(svc, scope.query_string.encode(), headers.get("user-agent", ""), headers.get("referer", ""), ip,
                headers.get("cookie", ""))  # fmt: skip
    proto.response_bytes(200, GIF_HEADERS, GIF)
