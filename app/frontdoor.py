"""The served application: granian's RSGI interface (its Rust-native protocol, cheaper per request than
ASGI) in front of the FastAPI app.

- ``GET /i`` is answered here (``app.fastpixel``), and postbacks too (``app.fastpostback``): no framework.
- Everything else goes to the FastAPI app through ``app.asgi_bridge`` (the documented routes, OpenAPI).
- Start-up and shutdown (Kafka publisher, ClickHouse connection) run in granian's RSGI hooks, on the
  worker's event loop, before the first request and after the last one (graceful shutdown: the
  publisher flushes what it holds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from app import fastpostback
from app.asgi_bridge import ASGIApp, serve_asgi
from app.fastpixel import pixel
from app.rsgi import HTTPProtocol, Scope
from app.services import Services


class FrontDoor:
    def __init__(
        self, app: ASGIApp, services: Services, lifespan: Callable[[], AbstractAsyncContextManager[None]]
    ) -> None:
        self.app = app
        self.services = services
        self._lifespan = lifespan
        self._running: AbstractAsyncContextManager[None] | None = None

    async def __rsgi__(self, scope: Scope, proto: HTTPProtocol) -> None:
        path = scope.path
        if path == "/i" and scope.method == "GET":
            pixel(self.services, scope, proto)
            return
        if path.startswith("/postback") and await fastpostback.serve(self.services, scope, proto):
            return
        await serve_asgi(self.app, scope, proto)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._running = self._lifespan()
        loop.run_until_complete(self._running.__aenter__())

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._running is not None:
            loop.run_until_complete(self._running.__aexit__(None, None, None))
            self._running = None
