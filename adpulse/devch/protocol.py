"""The HTTP interface's rules, pure: what a request asks for, and how answers and errors look."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

import lz4.frame
import zstandard

# URL parameters that belong to the transport, not to the engine's settings.
TRANSPORT_PARAMS = frozenset({
    "query", "database", "default_format", "user", "password", "session_id", "session_timeout",
    "session_check", "query_id", "quota_key", "compress", "decompress", "wait_end_of_query",
    "client_protocol_version", "role", "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "enable_http_compression", "buffer_size", "http_zlib_compression_level",
    "cancel_http_readonly_queries_on_client_close",
})  # fmt: skip
_SETTING = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMAT_CLAUSE = re.compile(rb"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
# INSERT INTO [TABLE] name [(columns)] [SETTINGS ...] FORMAT fmt <data...>
_INSERT = re.compile(
    rb"^\s*(?P<head>INSERT\s+INTO\s+(?:TABLE\s+)?(?:FUNCTION\s+\w+\s*\([^)]*\)|[\w.`\"]+)\s*(?:\([^)]*\))?)"
    rb"(?P<settings>\s*SETTINGS\s+.*?)?\s*(?:FORMAT\s+(?P<fmt>\w+)|(?P<values>VALUES))[ \t]*\r?\n?",
    re.IGNORECASE | re.DOTALL,
)
_ERROR_CODE = re.compile(r"Code:\s*(\d+)")


class BadRequest(ValueError):
    """A request the server refuses before the engine sees it (code as ClickHouse would use)."""

    def __init__(self, message: str, code: int = 36, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class Request:
    sql: bytes
    data: bytes = b""
    database: str = "default"
    default_format: str = "TabSeparated"
    settings: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    query_id: str = ""
    user: str = "default"


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding in ("", "identity"):
            return body
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
        if encoding == "lz4":
            return bytes(lz4.frame.decompress(body))
        if encoding == "zstd":
            return bytes(zstandard.ZstdDecompressor().decompressobj().decompress(body))
        if encoding == "br":
            raise BadRequest("Content-Encoding br is not supported by this development endpoint", 73)
    except BadRequest:
        raise
    except Exception as exc:
        raise BadRequest(f"Cannot decompress body ({encoding}): {exc}", 271) from exc
    raise BadRequest(f"Unknown Content-Encoding: {encoding}", 73)


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


def parse(query_string: bytes, body: bytes, method: str, content_type: str = "") -> Request:
    """Split URL parameters into query, database, settings and bound parameters; join query and body."""
    url = dict(parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True))
    if content_type.lower().startswith("multipart/form-data"):
        url.update(form_fields(content_type, body))
        body = b""
    request = Request(
        sql=b"",
        database=url.get("database") or "default",
        default_format=url.get("default_format") or "TabSeparated",
        query_id=url.get("query_id", ""),
        user=url.get("user") or "default",
    )
    for name, value in url.items():
        if name.startswith("param_"):
            request.params[name[6:]] = value
        elif name not in TRANSPORT_PARAMS:
            if not _SETTING.match(name):
                raise BadRequest(f"Invalid setting name {name!r}", 115)
            request.settings[name] = value
    query = url.get("query", "").encode()
    if method == "GET" or not body:
        request.sql = query
    elif query:
        request.sql, request.data = query, body  # the body continues the query: for an INSERT, its data
    else:
        request.sql = body
    if not request.sql.strip():
        raise BadRequest("Empty query", 62)
    return request


def split_insert(sql: bytes, data: bytes) -> tuple[str, str, bytes] | None:
    """For an INSERT carrying data: (statement without data and format, format, data), else None."""
    match = _INSERT.match(sql)
    if match is None:
        return None
    rest = sql[match.end() :] + data
    if match.group("values"):
        fmt, rest = "Values", sql[match.start("values") + len("VALUES") :] + data
    else:
        fmt = match.group("fmt").decode()
    if not rest.strip():
        return None if match.group("values") else (_head(match), fmt, b"")
    return _head(match), fmt, rest


def _head(match: re.Match[bytes]) -> str:
    settings = (match.group("settings") or b"").decode()
    return match.group("head").decode() + " {infile}" + settings


def output_format(sql: bytes, default: str) -> str:
    match = _FORMAT_CLAUSE.search(sql)
    return match.group(1).decode() if match else default


def error_code(message: str) -> int:
    match = _ERROR_CODE.search(message)
    return int(match.group(1)) if match else 1002


def error_text(message: str) -> str:
    """ClickHouse's error body: ``Code: N. DB::Exception: ... (NAME) (version X)``."""
    start = message.find("Code: ")
    text = message[start:].strip() if start >= 0 else f"Code: 1002. DB::Exception: {message.strip()}"
    return text + "\n"


def http_status(code: int) -> int:
    if code in (60, 81):  # UNKNOWN_TABLE, UNKNOWN_DATABASE
        return 404
    if code in (62, 27, 26, 36, 115, 73, 271):
        return 400
    if code in (164, 497):  # READONLY, ACCESS_DENIED
        return 403
    return 500
