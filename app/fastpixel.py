"""``GET /i`` without the framework's per-request cost: a pure ASGI layer in front of the FastAPI app.

The route in ``app.pixel`` stays the documented contract (OpenAPI) and does the same thing; this layer
answers the same request before routing. It forwards the hit raw (``ingest.rawhit``): parsing and
validation happen in the aggregator, which publishes invalid hits to the rejects topic with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.limits import MAX_TARGET
from app.responses import GIF, NO_CACHE
from app.services import Services
from ingest.metrics import REQUESTS_REJECTED
from ingest.rawhit import raw_hit
from ingest.visitor import from_cookie_header

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"image/gif"),
        (b"content-length", str(len(GIF)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in NO_CACHE.items()),
    ],
}
_BODY = {"type": "http.response.body", "body": GIF}


async def send_gif(send: Send) -> None:
    await send(_START)
    await send(_BODY)


def publish_hit(svc: Services, scope: Scope) -> None:
    """Hand the raw hit to the publisher's bounded queue (never waits on Kafka)."""
    query: bytes = scope["query_string"]
    if len(query) > MAX_TARGET:
        REQUESTS_REJECTED.labels("/i", "url").inc()
        return
    user_agent = referrer = forwarded = cookie = ""
    for name, value in scope["headers"]:
        if name == b"user-agent":
            user_agent = value.decode("latin-1")
        elif name == b"referer":
            referrer = value.decode("latin-1")
        elif name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
        elif name == b"cookie":  # issue 9: the visitor cookie travels in the raw hit
            cookie = value.decode("latin-1")
    if svc.settings.trust_forwarded and forwarded:
        ip = forwarded.split(",")[0].strip()
    else:
        client = scope.get("client")
        ip = client[0] if client else ""
    visitor = from_cookie_header(cookie) if cookie else ""
    hit, key = raw_hit(query, user_agent, ip, referrer, svc.clock.now_ms(), visitor)
    svc.publisher.publish_hit(hit, key)


class PixelFastPath:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/i" and scope["method"] == "GET":
            publish_hit(self.services, scope)
            await send_gif(send)
            return
        await self.app(scope, receive, send)
