"""The ASGI app speaking ClickHouse's HTTP interface, and ``serve``/``main`` to run it under uvicorn.

DEVELOPMENT/TEST ONLY (see the package docstring): binds to loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import uvicorn

from adpulse.clickhouse import DEFAULT_DATABASE
from adpulse.devch import errors
from adpulse.devch.codec import decode, too_large
from adpulse.devch.engine import Engine
from adpulse.devch.errors import BadRequest
from adpulse.devch.protocol import parse
from schemas.access import bi_tables

log = logging.getLogger("adpulse.devch")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
MAX_BODY = 256 * 1024 * 1024
_TEXT = b"text/plain; charset=UTF-8"
_CONTENT_TYPES = (
    (("TabSeparated", "TSV"), b"text/tab-separated-values; charset=UTF-8"),
    (("CSV",), b"text/csv; charset=UTF-8; header=absent"),
    (("JSON",), b"application/json; charset=UTF-8"),
    (("Pretty", "Vertical", "Markdown", "Values", "Raw", "LineAsString", "Template"), _TEXT),
)


class ClientGone(Exception):
    """The client went away before its request was complete: nothing is run, nothing answered."""


class ClickHouseHTTP:
    def __init__(self, engine: Engine, max_body: int = MAX_BODY) -> None:
        self.engine = engine
        self.max_body = max_body
        self.base: Headers = [
            (b"x-clickhouse-server-display-name", b"adpulse-devch (development/test only)"),
            (b"x-clickhouse-timezone", engine.timezone.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path in ("/ping", "/replicas_status"):
            await self._send(send, 200, b"Ok.\n", [*self.base, (b"content-type", _TEXT)])
            return
        if path not in ("/", "/query"):
            text = f"There is no handle {path}\n\nUse / or /ping for health checks.\n".encode()
            await self._send(send, 404, text, [*self.base, (b"content-type", _TEXT)])
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query_id = str(uuid.uuid4())
        try:
            body = await self._body(receive, headers)
            if not scope["query_string"] and not body:
                await self._send(send, 200, b"Ok.\n", [*self.base, (b"content-type", _TEXT)])
                return
            if headers.get("content-encoding", "identity") != "identity":
                body = await asyncio.to_thread(decode, body, headers["content-encoding"], self.max_body)
            request = parse(scope["query_string"], body, scope["method"], headers)
            query_id = request.query_id or query_id
            result = await asyncio.to_thread(self.engine.execute, request)
        except ClientGone:
            return
        except BadRequest as exc:
            await self._error(send, query_id, exc.text(), exc.code, exc.status, close=exc.status == 413)
            return
        except Exception as exc:  # the engine's errors become ClickHouse's error answer
            code, message = errors.from_engine(str(exc))
            if code == 1002:
                log.exception("unexpected error (query id %s)", query_id)
            await self._error(send, query_id, message, code, errors.STATUS.get(code, 500))
            return
        response_headers = [
            *self.base,
            (b"content-type", _content_type(result.fmt)),
            (b"x-clickhouse-format", result.fmt.encode()),
            (b"x-clickhouse-query-id", query_id.encode()),
            (b"x-clickhouse-summary", orjson.dumps(result.summary)),
        ]
        await self._send(send, 200, result.body, response_headers)

    async def _body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        """The whole body (uvicorn has decoded any chunked framing), at most ``max_body`` bytes."""
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            raise too_large(self.max_body)  # answered at once; the connection is then closed
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                if message.get("more_body"):
                    await self._drain(receive)  # so that the client, still sending, reads the answer
                raise too_large(self.max_body)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _drain(self, receive: Receive) -> None:
        budget = 4 * self.max_body
        while budget > 0:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            budget -= len(message.get("body", b""))
            if not message.get("more_body"):
                return

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, headers: Headers) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, query_id: str, text: str, code: int, status: int, close: bool = False) -> None:
        headers = [
            *self.base,
            (b"content-type", _TEXT),
            (b"x-clickhouse-exception-code", str(code).encode()),
            (b"x-clickhouse-query-id", query_id.encode()),
        ]
        if close:
            headers.append((b"connection", b"close"))
        await self._send(send, status, errors.body(text, self.engine.version), headers)


def _content_type(fmt: str) -> bytes:
    for prefixes, content_type in _CONTENT_TYPES:
        if fmt.startswith(prefixes):
            return content_type
    return b"application/octet-stream"


def loopback(host: str) -> str:
    """``host`` if it is a loopback address (``localhost`` is 127.0.0.1), else ValueError."""
    name = host.strip("[]")
    if name.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"refusing to listen on {host!r}: the development/test ClickHouse endpoint has no authentication "
            "and binds to a loopback address only (127.0.0.1, ::1 or localhost)"
        )
    return name


def serve(
    path: str,
    host: str = "127.0.0.1",
    port: int = 8123,
    readonly_users: list[str] | None = None,
    max_body: int = MAX_BODY,
) -> None:
    """Serve until SIGINT/SIGTERM, then stop cleanly (requests under way finish). Loopback addresses only.
    ``readonly_users`` may read adpulse's BI objects only (schemas.access), with readonly=1 forced."""
    bind = loopback(host)
    engine = Engine(path, dict.fromkeys(readonly_users or [], bi_tables(DEFAULT_DATABASE)))
    url_host = f"[{bind}]" if ":" in bind else bind
    log.warning(
        "DEVELOPMENT/TEST ONLY ClickHouse HTTP endpoint (embedded engine %s, data in %s) listening on http://%s:%d",
        engine.version, path, url_host, port,
    )  # fmt: skip
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again under the handlers it
    # found: make those no-ops, so that the engine is closed and serve returns (exit status 0).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _stop_noted) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    try:
        uvicorn.run(ClickHouseHTTP(engine, max_body), host=bind, port=port, log_level="warning", access_log=False,
                    loop="uvloop", http="httptools", timeout_keep_alive=30, timeout_graceful_shutdown=5)  # fmt: skip
    finally:
        engine.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.warning("development ClickHouse endpoint on %s:%d stopped", url_host, port)


def _stop_noted(signum: int, frame: object) -> None:
    """Nothing to do: uvicorn has already stopped serving when it re-raises the signal."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", required=True, help="data directory of the embedded engine")
    parser.add_argument(
        "--host", default="127.0.0.1", type=_loopback_arg, help="a loopback address (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--readonly-user", action="append", default=[], help="a BI user: read-only, BI objects only")
    parser.add_argument("--max-body-mib", type=int, default=MAX_BODY >> 20, help="request body limit (413 above)")


def _loopback_arg(host: str) -> str:
    try:
        loopback(host)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return host


def serve_args(args: argparse.Namespace) -> int:
    serve(args.path, args.host, args.port, args.readonly_user, args.max_body_mib << 20)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="adpulse clickhouse-dev", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve_args(args)
