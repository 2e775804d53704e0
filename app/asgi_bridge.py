"""Serve an ASGI application (the FastAPI app) from granian's RSGI interface, for the requests the
RSGI front door does not answer itself. HTTP only: the API has no websockets.

Granian has no ASGI-over-RSGI adapter of its own; this is the small subset of ASGI 3 that Starlette
uses: one ``http`` scope, a streamed request body, then ``http.disconnect``; a response sent in one
piece (``response_bytes``) or streamed (``response_stream``) when the app sends ``more_body``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from app.client_ip import peer_host
from app.rsgi import HTTPProtocol, Scope

Message = MutableMapping[str, Any]
ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]  # fmt: skip


def _address(address: str) -> tuple[str, int]:
    host = peer_host(address)
    port = address.rpartition(":")[2]
    return host, int(port) if port.isdigit() else 0


def asgi_scope(scope: Scope) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "server": _address(scope.server),
        "client": _address(scope.client),
        "scheme": scope.scheme,
        "method": scope.method,
        "root_path": "",
        "path": scope.path,
        "raw_path": quote(scope.path, safe="/:@!$&'()*+,;=~-._").encode("ascii"),  # RSGI gives the decoded path
        "query_string": scope.query_string.encode(),  # RSGI decodes the raw bytes as UTF-8 (others get a 400)
        "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in scope.headers.items()],
        "state": {},
        "extensions": {},
    }


class _Exchange:
    """One request's receive/send, translated to the RSGI protocol object."""

    def __init__(self, proto: HTTPProtocol) -> None:
        self.proto = proto
        self.chunks: AsyncIterator[bytes] = aiter(proto)
        self.body_done = False
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.started = False
        self.stream: Any = None
        self.finished = False

    async def receive(self) -> Message:
        if not self.body_done:
            try:
                chunk = await anext(self.chunks)
            except StopAsyncIteration:
                self.body_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}
        if not self.finished:
            await self.proto.client_disconnect()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
            self.started = True
        elif kind == "http.response.body" and not self.finished:
            body: bytes = message.get("body", b"")
            more: bool = message.get("more_body", False)
            if self.stream is None and not more:
                self.proto.response_bytes(self.status, self.headers, body)
                self.finished = True
                return
            if self.stream is None:
                self.stream = self.proto.response_stream(self.status, self.headers)
            if body:
                await self.stream.send_bytes(body)
            self.finished = not more


async def serve_asgi(app: ASGIApp, scope: Scope, proto: HTTPProtocol) -> None:
    exchange = _Exchange(proto)
    try:
        await app(asgi_scope(scope), exchange.receive, exchange.send)
    finally:
        if not exchange.finished and exchange.stream is None:
            # the app raised or returned without a response: an empty 500 rather than a hung connection
            proto.response_empty(500 if not exchange.started else exchange.status, [])
