"""ClickHouse's error answers: ``Code: N. DB::Exception: ... (NAME) (version V)``, the exception code in a
header, and the HTTP status ClickHouse gives that code (``src/Server/HTTP/exceptionCodeToHTTPStatus.cpp``;
codes and names as ``system.errors`` of the embedded engine lists them)."""

from __future__ import annotations

import re

# Codes this endpoint raises itself (the engine's own errors carry their code and name in the message).
NAMES = {
    36: "BAD_ARGUMENTS", 48: "NOT_IMPLEMENTED", 62: "SYNTAX_ERROR", 73: "UNKNOWN_FORMAT",
    89: "UNKNOWN_COMPRESSION_METHOD", 115: "UNKNOWN_SETTING", 164: "READONLY", 271: "CANNOT_DECOMPRESS",
    307: "TOO_MANY_BYTES", 497: "ACCESS_DENIED", 1002: "UNKNOWN_EXCEPTION",
}  # fmt: skip
_STATUS_CODES = {
    401: (194,),  # REQUIRED_PASSWORD
    403: (192, 193, 516, 512, 497),  # UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, ..., ACCESS_DENIED
    400: (36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223, 62, 117, 53, 321),
    404: (60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511),  # UNKNOWN_TABLE, ..._IDENTIFIER, ..._DATABASE, ...
    413: (229,),  # QUERY_IS_TOO_LARGE
    501: (48,),  # NOT_IMPLEMENTED
    503: (209, 76, 439),  # SOCKET_TIMEOUT, CANNOT_OPEN_FILE, CANNOT_SCHEDULE_TASK
    411: (381,),  # HTTP_LENGTH_REQUIRED
    408: (159,),  # TIMEOUT_EXCEEDED
    415: (779,),  # UNSUPPORTED_MEDIA_TYPE
}
STATUS = {code: status for status, codes in _STATUS_CODES.items() for code in codes}
_CODE = re.compile(r"Code:\s*(\d+)")


class BadRequest(ValueError):
    """A request refused before (or instead of) the engine: ClickHouse's code, and the HTTP status to answer."""

    def __init__(self, message: str, code: int = 36, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status or STATUS.get(code, 500)

    def text(self) -> str:
        return f"Code: {self.code}. DB::Exception: {self}. ({NAMES.get(self.code, 'UNKNOWN_EXCEPTION')})"


def from_engine(message: str) -> tuple[int, str]:
    """(code, text) of an engine error, whatever wrapper (``Streaming insert ... failed: ``) precedes it."""
    start = message.find("Code: ")
    if start < 0:
        return 1002, f"Code: 1002. DB::Exception: {message.strip()}. (UNKNOWN_EXCEPTION)"
    text = message[start:].strip()
    match = _CODE.match(text)
    return (int(match.group(1)) if match else 1002), text


def body(text: str, version: str) -> bytes:
    """The answer's body: the text, ``(version V)`` as a server appends it, and a newline."""
    text = text.rstrip()
    if "(version " not in text:
        text += f" (version {version})"
    return (text + "\n").encode()
