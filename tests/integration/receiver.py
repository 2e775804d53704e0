"""A local HTTP receiver for delivery tests: records every request and answers as scripted.

A script is a list of answers per path prefix, consumed one per request carrying the same
``Idempotency-Key`` (so each delivery sees the same sequence): an int status code, ``("retry-after",
code, seconds)``, or ``"timeout"`` (answers after the deliverer's timeout). When the list runs out, 200.
``delays`` slows every answer under a path prefix (to kill a deliverer mid-way).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    answered: int = 0


@dataclass
class Receiver:
    scripts: dict[str, list[Any]] = field(default_factory=dict)
    timeout_s: float = 1.5
    delays: dict[str, float] = field(default_factory=dict)  # per path prefix: every answer waits
    requests: list[Received] = field(default_factory=list)
    base: str = ""  # set from start()
    _used: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                item = Received(
                    time.monotonic(), self.command, parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    {k.lower(): v for k, v in self.headers.items()}, body,
                )  # fmt: skip
                status, headers, sleep = receiver._answer(item)
                with receiver._lock:
                    receiver.requests.append(item)  # in arrival order
                if sleep:
                    time.sleep(sleep)
                item.answered = status
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the deliverer gave up waiting (timeout)

            do_GET = _handle
            do_POST = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, item: Received) -> tuple[int, dict[str, str], float]:
        prefix = next((p for p in (*self.scripts, *self.delays) if item.path.startswith(p)), None)
        key = item.headers.get("idempotency-key", "")
        with self._lock:
            index = self._used[(prefix or "", key)]
            self._used[(prefix or "", key)] += 1
        script = self.scripts.get(prefix or "", [])
        step = script[index] if index < len(script) else 200
        delay = self.delays.get(prefix or "", 0.0)
        if step == "timeout":
            return 200, {}, self.timeout_s + 1.0
        if isinstance(step, tuple):
            _, code, seconds = step
            return code, {"Retry-After": str(seconds)}, delay
        return int(step), {}, delay

    def matching(self, path: str, **query: str) -> list[Received]:
        with self._lock:
            found = list(self.requests)
        return [r for r in found if r.path == path and all(r.query.get(k) == v for k, v in query.items())]
