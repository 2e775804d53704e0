"""Size limits on everything that comes from outside, enforced before any handler runs (pure ASGI).

| limit | default | answer |
|---|---|---|
| request target (path + query) | 8 KiB | 414 (the pixel paths answer the GIF/204 and count the hit as rejected) |
| all header lines together | 16 KiB | 431 |
| body, by path | see ``BODY_LIMITS`` | 413 |

Slow clients: uvicorn's ``timeout_keep_alive`` closes idle connections; run behind a proxy (nginx,
an ALB) for request-read timeouts, see README "Running behind a proxy".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from ingest.metrics import REQUESTS_REJECTED

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_TARGET = 8 * 1024
MAX_HEADERS = 16 * 1024
BODY_LIMITS = {"/v1/events": 1024 * 1024, "/v1/costs": 1024 * 1024, "/v1/fx-rates": 1024 * 1024}
DEFAULT_BODY_LIMIT = 64 * 1024
BROWSER_PATHS = ("/i", "/e")


async def _reply(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def too_large(field: str, reason: str) -> bytes:
    """The JSON body of a 413/414/431 answer (also sent by the RSGI front door)."""
    return orjson.dumps({"error": "too_large", "field": field, "reason": reason})


async def _error(send: Send, status: int, field: str, reason: str) -> None:
    await _reply(send, status, too_large(field, reason), b"application/json")


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, browser_answer: Callable[[str], tuple[int, bytes, bytes]]) -> None:
        self.app = app
        self.browser_answer = browser_answer  # path -> (status, body, content type) for pixel paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > MAX_TARGET:
            REQUESTS_REJECTED.labels(path if path in BROWSER_PATHS else "other", "url").inc()
            if path in BROWSER_PATHS:
                status, body, content_type = self.browser_answer(path)
                await _reply(send, status, body, content_type)
            else:
                await _error(send, 414, "url", f"request target longer than {MAX_TARGET} bytes")
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADERS:
            await _error(send, 431, "headers", f"headers larger than {MAX_HEADERS} bytes")
            return
        limit = BODY_LIMITS.get(path, DEFAULT_BODY_LIMIT)
        for key, value in scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                await _error(send, 413, "body", f"body larger than {limit} bytes")
                return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _capped(receive, limit), tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            REQUESTS_REJECTED.labels(path, "body").inc()
            await _error(send, 413, "body", str(exc))


class BodyTooLarge(Exception):
    """A chunked body went past its limit; the handler answers 413."""


def _capped(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"body larger than {limit} bytes")
        return message

    return wrapped
