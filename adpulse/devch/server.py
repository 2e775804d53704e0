"""The ASGI app speaking ClickHouse's HTTP interface, and ``serve``/``main`` to run it under uvicorn.

DEVELOPMENT/TEST ONLY (see the package docstring): binds to loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import ipaddress
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import uvicorn

from adpulse.clickhouse import DEFAULT_DATABASE
from adpulse.devch.engine import Engine
from adpulse.devch.protocol import BadRequest, decompress, error_code, error_text, http_status, parse
from schemas.access import bi_tables

log = logging.getLogger("adpulse.devch")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
MAX_BODY = 256 * 1024 * 1024


class ClickHouseHTTP:
    def __init__(self, engine: Engine, max_body: int = MAX_BODY) -> None:
        self.engine = engine
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query_id = str(uuid.uuid4())
        base = [
            (b"x-clickhouse-server-display-name", b"adpulse-devch (development/test only)"),
            (b"x-clickhouse-timezone", self.engine.timezone.encode()),
        ]
        try:
            body = await self._body(receive, headers)
            if scope["path"] in ("/ping", "/") and not scope["query_string"] and not body:
                await self._send(send, 200, b"Ok.\n", [*base, (b"content-type", b"text/plain; charset=UTF-8")])
                return
            if scope["path"] not in ("/", "/query"):
                raise BadRequest(f"There is no handle {scope['path']}", 0, 404)
            body = decompress(body, headers.get("content-encoding", ""))
            request = parse(scope["query_string"], body, scope["method"], headers.get("content-type", ""))
            request.user = _user(headers) or request.user
            query_id = request.query_id or query_id
            result = await asyncio.to_thread(self.engine.execute, request)
        except BadRequest as exc:
            await self._error(send, base, query_id, f"Code: {exc.code}. DB::Exception: {exc}. ", exc.code, exc.status)
            return
        except Exception as exc:  # noqa: BLE001 - engine errors become ClickHouse's error answer
            message = str(exc)
            code = error_code(message)
            await self._error(send, base, query_id, error_text(message), code, http_status(code))
            return
        response_headers = [
            *base,
            (b"content-type", _content_type(result.fmt)),
            (b"x-clickhouse-format", result.fmt.encode()),
            (b"x-clickhouse-query-id", query_id.encode()),
            (b"x-clickhouse-summary", orjson.dumps(result.summary)),
        ]
        await self._send(send, 200, result.body, response_headers)

    async def _body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            raise BadRequest(f"Request body larger than {self.max_body} bytes", 307, 413)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise BadRequest(f"Request body larger than {self.max_body} bytes", 307, 413)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(
        self, send: Send, base: list[tuple[bytes, bytes]], query_id: str, text: str, code: int, status: int
    ) -> None:
        if not text.rstrip().endswith(")"):
            text = text.rstrip() + f" (version {self.engine.version})\n"
        headers = [
            *base,
            (b"content-type", b"text/plain; charset=UTF-8"),
            (b"x-clickhouse-exception-code", str(code).encode()),
            (b"x-clickhouse-query-id", query_id.encode()),
        ]
        await self._send(send, status, text.encode(), headers)


def _user(headers: dict[str, str]) -> str | None:
    """The user named by X-ClickHouse-User or HTTP basic auth (passwords are not checked: dev only)."""
    if headers.get("x-clickhouse-user"):
        return headers["x-clickhouse-user"]
    auth = headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            return base64.b64decode(auth[6:]).decode().split(":", 1)[0] or None
        except ValueError:
            return None
    return None


def _content_type(fmt: str) -> bytes:
    return (
        b"text/plain; charset=UTF-8" if fmt.startswith(("Tab", "TSV", "CSV", "JSON")) else b"application/octet-stream"
    )


def serve(path: str, host: str = "127.0.0.1", port: int = 8123, readonly_users: list[str] | None = None) -> None:
    """Serve until SIGINT/SIGTERM. Loopback addresses only. ``readonly_users`` may read adpulse's BI
    objects only (schemas.access), with readonly=1 forced."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the development ClickHouse endpoint binds to loopback only, not {host}")
    allowed = bi_tables(DEFAULT_DATABASE)
    engine = Engine(path, dict.fromkeys(readonly_users or [], allowed))
    log.warning(
        "DEVELOPMENT/TEST ONLY ClickHouse HTTP endpoint over the embedded engine %s (data %s) on http://%s:%d",
        engine.version, path, host, port,
    )  # fmt: skip
    try:
        uvicorn.run(ClickHouseHTTP(engine), host=host, port=port, log_level="warning", access_log=False,
                    loop="uvloop", http="httptools", timeout_keep_alive=30)  # fmt: skip
    finally:
        engine.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", required=True, help="data directory of the embedded engine")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--readonly-user", action="append", default=[], help="a BI user: read-only, BI objects only")


def serve_args(args: argparse.Namespace) -> int:
    serve(args.path, args.host, args.port, args.readonly_user)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="adpulse clickhouse-dev", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve_args(args)
