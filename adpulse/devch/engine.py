"""The embedded engine behind the endpoint. Each request gets its own chdb handle (about 0.2 ms to open):
``USE`` and ``SET`` are per handle, so a request's database and settings never reach another request, and
handles run concurrently (requests run in worker threads)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from adpulse.devch import access
from adpulse.devch.errors import BadRequest
from adpulse.devch.protocol import Insert, Request, output_format, single_statement, split_insert

_PYTHON_FORMATS = frozenset({"dataframe", "datastore", "arrowtable"})


@dataclass(frozen=True)
class Result:
    body: bytes
    fmt: str
    summary: dict[str, str]


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Engine:
    def __init__(self, path: str, readonly_users: dict[str, frozenset[str]] | None = None) -> None:
        self._chdb = _load_chdb()
        self.path = path
        self.readonly_users = readonly_users or {}
        self._root = self._chdb.connect(path)  # holds the engine (and its directory lock) for the server's life
        self.timezone = self._scalar("SELECT timezone()")
        self.version = self._scalar("SELECT version()")

    def _scalar(self, sql: str) -> str:
        return str(self._root.query(sql, "TabSeparated").bytes().decode().strip())

    def close(self) -> None:
        self._root.close()

    def execute(self, request: Request) -> Result:
        started = time.perf_counter_ns()
        insert = split_insert(request.sql)
        single_statement(insert.statement.encode() if insert is not None else request.sql)
        handle = self._chdb.connect(self.path)
        try:
            self._prepare(handle, request, insert)
            if insert is not None:
                return self._insert(handle, insert, request.default_format, started)
            return self._query(handle, request, started)
        finally:
            handle.close()

    def _prepare(self, handle: Any, request: Request, insert: Insert | None) -> None:
        if request.database != "default":
            handle.query(f"USE `{request.database.replace('`', '')}`", "TabSeparated")
        settings = dict(request.settings)
        readonly = settings.pop("readonly", "0")
        allowed = self.readonly_users.get(request.user)
        if allowed is not None:
            readonly = "1"  # whatever the request says; an INSERT is then refused by the engine itself
            if insert is None:
                explain = f"EXPLAIN AST {_text(request.sql)}"
                ast = handle.query(explain, "TabSeparated", params=request.params or None).bytes().decode()
                access.check(ast, request.database, allowed)
        if insert is not None:  # send_insert takes no parameters: bind them in the session instead
            settings.update({f"param_{name}": value for name, value in request.params.items()})
        if settings:
            handle.query("SET " + ", ".join(f"{name} = {quote(value)}" for name, value in settings.items()))
        if readonly not in ("", "0"):
            handle.query(f"SET readonly = {quote(readonly)}")  # last: it forbids changing settings

    @staticmethod
    def _insert(handle: Any, insert: Insert, fmt: str, started: int) -> Result:
        with handle.send_insert(insert.statement, insert.fmt) as inserter:
            if insert.data:
                inserter.append(insert.data)
            written = inserter.finish()
        rows, size = str(written.rows_written), str(written.bytes_written)
        summary = _summary(rows, size, rows, size, "0", "0", started)
        return Result(body=b"", fmt=fmt, summary=summary)

    @staticmethod
    def _query(handle: Any, request: Request, started: int) -> Result:
        fmt = output_format(request.sql, request.default_format)
        if fmt.lower() in _PYTHON_FORMATS:  # chdb's Python-object outputs, not ClickHouse formats
            raise BadRequest(f"Unknown format {fmt}", 73)
        result = handle.query(_text(request.sql), fmt, params=request.params or None)
        body = result.bytes() or b""
        summary = _summary(
            str(result.storage_rows_read()), str(result.storage_bytes_read()),
            str(result.rows_written()), str(result.bytes_written()),
            str(result.rows_read()), str(len(body)), started,
        )  # fmt: skip
        return Result(body=body, fmt=fmt, summary=summary)


def _load_chdb() -> Any:
    """chdb, loaded with TZ=UTC: the engine takes its server timezone from the process when it loads,
    and production servers run in UTC (imported here, not at module level, for that reason)."""
    if "chdb" not in sys.modules:
        os.environ["TZ"] = "UTC"
        time.tzset()
    import chdb

    return chdb


def _text(sql: bytes) -> str:
    try:
        return sql.decode()
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The query is not valid UTF-8 (at byte {exc.start})", 36) from exc


def _summary(
    read_rows: str, read_bytes: str, written_rows: str, written_bytes: str, result_rows: str, result_bytes: str,
    started: int,
) -> dict[str, str]:  # fmt: skip
    """X-ClickHouse-Summary as a server sends it (numbers as strings)."""
    return {
        "read_rows": read_rows, "read_bytes": read_bytes, "written_rows": written_rows,
        "written_bytes": written_bytes, "total_rows_to_read": read_rows, "result_rows": result_rows,
        "result_bytes": result_bytes, "elapsed_ns": str(time.perf_counter_ns() - started),
    }  # fmt: skip
