"""What a request asks for, by the rules of ClickHouse's HTTP interface (pure: no engine, no I/O)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from adpulse.devch.errors import BadRequest

# URL parameters that belong to the transport (or that clients send for it), not to the engine's settings.
TRANSPORT_PARAMS = frozenset({
    "query", "database", "default_format", "user", "password", "session_id", "session_timeout",
    "session_check", "query_id", "quota_key", "compress", "decompress", "wait_end_of_query",
    "client_protocol_version", "role", "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "enable_http_compression", "buffer_size", "http_zlib_compression_level", "stacktrace",
    "cancel_http_readonly_queries_on_client_close",
})  # fmt: skip
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMAT_CLAUSE = re.compile(rb"\bFORMAT\s+(\w+)(?:\s+SETTINGS\s[^;]*)?\s*;?\s*$", re.IGNORECASE)
# INSERT INTO [TABLE] name [(columns)] [SETTINGS ...] FORMAT fmt|VALUES, then the data.
_INSERT = re.compile(
    rb"^\s*(?P<head>INSERT\s+INTO\s+(?:TABLE\s+)?(?:FUNCTION\s+\w+\s*\([^)]*\)|[\w.`\"{}:]+)\s*(?:\([^)]*\))?)"
    rb"(?P<settings>\s*SETTINGS\s[^\n]*?)?\s*(?:FORMAT\s+(?P<fmt>\w+)|(?P<values>VALUES))[ \t]*\r?\n?",
    re.IGNORECASE,
)
_OFF = ("", "0", "false")
# Quoted strings and identifiers, comments, and the semicolon: enough to find where a statement ends.
_LEXEME = re.compile(rb"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`|--[^\n]*|#[^\n]*|/\*.*?\*/|;", re.S)
_BLANK = re.compile(rb"(?:\s|--[^\n]*|#[^\n]*|/\*.*?\*/|;)*", re.S)


@dataclass
class Request:
    sql: bytes  # the `query` parameter, a newline, then the body: ClickHouse joins them so
    database: str = "default"
    default_format: str = "TabSeparated"
    settings: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    query_id: str = ""
    user: str = "default"


@dataclass(frozen=True)
class Insert:
    statement: str  # INSERT INTO t (columns) [SETTINGS ...], without FORMAT and data
    fmt: str
    data: bytes


def parse(query_string: bytes, body: bytes, method: str, headers: Mapping[str, str]) -> Request:
    """Split URL parameters into database, settings and bound parameters; join query and body."""
    url = dict(parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True))
    content_type = headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        url.update(form_fields(content_type, body))
        body = b""
    request = Request(
        sql=b"",
        database=url.get("database") or headers.get("x-clickhouse-database") or "default",
        default_format=url.get("default_format") or headers.get("x-clickhouse-format") or "TabSeparated",
        query_id=url.get("query_id", ""),
        user=header_user(headers) or url.get("user") or "default",
    )
    for name in ("compress", "decompress"):
        if url.get(name, "0").lower() not in _OFF:
            raise BadRequest(f"{name}=1 (ClickHouse's block compression) is not supported: use Content-Encoding", 48)
    for name, value in url.items():
        if name.startswith("param_"):
            request.params[name[6:]] = value
        elif name not in TRANSPORT_PARAMS:
            if not _SETTING.match(name):
                raise BadRequest(f"Invalid setting name {name!r}", 115)
            request.settings[name] = value
    if method in ("GET", "HEAD") and request.settings.get("readonly", "0") in _OFF:
        request.settings["readonly"] = "2"  # as a server does: GET reads, and may still change settings
    query = url.get("query", "").encode()
    request.sql = query + b"\n" + body if query and body else query or body
    if not request.sql.strip():
        raise BadRequest("Empty query", 62)
    return request


def header_user(headers: Mapping[str, str]) -> str | None:
    """The user named by X-ClickHouse-User or HTTP basic auth (passwords are not checked: development only)."""
    if headers.get("x-clickhouse-user"):
        return headers["x-clickhouse-user"]
    auth = headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        try:
            return base64.b64decode(auth[6:], validate=True).decode().split(":", 1)[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a multipart/form-data body (clients send long bound parameters this way)."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_filename():
            raise BadRequest("external data (file fields) is not supported by this development endpoint", 48)
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = payload.decode("utf-8") if isinstance(payload, bytes) else ""
    return fields


def split_insert(sql: bytes) -> Insert | None:
    """An INSERT that carries its data (FORMAT or VALUES): statement, format and data apart; else None."""
    match = _INSERT.match(sql)
    if match is None:
        return None
    statement = (match.group("head") + (match.group("settings") or b"")).decode().strip()
    if match.group("values"):
        data = sql[match.start("values") + len("VALUES") :]
        return Insert(statement, "Values", data) if data.strip() else None
    return Insert(statement, match.group("fmt").decode(), sql[match.end() :])


def single_statement(sql: bytes) -> None:
    """Refuse several statements in one request, as ClickHouse's HTTP interface does (the engine would run them)."""
    for lexeme in _LEXEME.finditer(sql):
        if lexeme.group() == b";":
            if not _BLANK.fullmatch(sql, lexeme.end()):
                raise BadRequest(
                    f"Syntax error (Multi-statements are not allowed): failed at position {lexeme.end()}", 62
                )
            return


def output_format(sql: bytes, default: str) -> str:
    match = _FORMAT_CLAUSE.search(sql)
    return match.group(1).decode() if match else default
