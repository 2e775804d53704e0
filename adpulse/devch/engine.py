"""The embedded engine behind the endpoint: one chdb handle per request (cheap, about 0.2 ms), so the
request's database and settings never leak into another request."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import chdb

from adpulse.devch import access
from adpulse.devch.protocol import Request, output_format, split_insert


@dataclass(frozen=True)
class Result:
    body: bytes
    fmt: str
    summary: dict[str, str]


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Engine:
    def __init__(self, path: str, readonly_users: dict[str, frozenset[str]] | None = None) -> None:
        self.path = path
        self.readonly_users = readonly_users or {}
        self._root = chdb.connect(path)  # holds the engine (and its directory lock) for the server's life
        self.timezone = self._root.query("SELECT timezone()", "TabSeparated").bytes().decode().strip() or "UTC"
        self.version = self._root.query("SELECT version()", "TabSeparated").bytes().decode().strip()

    def close(self) -> None:
        self._root.close()

    def execute(self, request: Request) -> Result:
        started = time.perf_counter_ns()
        handle = chdb.connect(self.path)
        tmp_path = None
        try:
            if request.database != "default":
                handle.query(f"USE `{request.database.replace('`', '')}`", "TabSeparated")
            settings = dict(request.settings)
            readonly = settings.pop("readonly", None)
            allowed = self.readonly_users.get(request.user)
            if allowed is not None:
                readonly = "1"  # whatever the request says
                ast = handle.query(f"EXPLAIN AST {request.sql.decode()}", "TabSeparated").bytes().decode()
                access.check(ast, request.database, allowed)
            for name, value in settings.items():
                handle.query(f"SET {name} = {_quote(value)}", "TabSeparated")
            if readonly not in (None, "", "0"):
                handle.query(f"SET readonly = {_quote(readonly)}", "TabSeparated")
            insert = split_insert(request.sql, request.data)
            if insert is not None:
                head, fmt, data = insert
                with tempfile.NamedTemporaryFile(prefix="devch-", suffix=".data", delete=False) as tmp:
                    tmp.write(data)
                    tmp_path = tmp.name
                sql = head.format(infile=f"FROM INFILE {_quote(tmp_path)}") + f" FORMAT {fmt}"
                result: Any = handle.query(sql, "TabSeparated", params=request.params or None)
                out_fmt = "TabSeparated"
            else:
                out_fmt = output_format(request.sql, request.default_format)
                result = handle.query(request.sql.decode(), out_fmt, params=request.params or None)
            body = result.bytes() or b""
            summary = {
                "read_rows": str(result.rows_read()),
                "read_bytes": str(result.bytes_read()),
                "written_rows": str(getattr(result, "rows_written", lambda: 0)()),
                "written_bytes": str(getattr(result, "bytes_written", lambda: 0)()),
                "total_rows_to_read": str(result.rows_read()),
                "result_rows": "0" if insert is not None else str(body.count(b"\n")),
                "result_bytes": str(len(body)),
                "elapsed_ns": str(time.perf_counter_ns() - started),
            }
            return Result(body=body, fmt=out_fmt, summary=summary)
        finally:
            handle.close()
            if tmp_path is not None:
                os.unlink(tmp_path)
