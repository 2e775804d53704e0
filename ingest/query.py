"""Strict parsing of URL-encoded parameters (query strings and form bodies) with size limits.

Unlike ``urllib.parse.parse_qsl`` this names the parameter that is wrong: too many parameters, a name
or value too long, or bytes that are not UTF-8. The first occurrence of a repeated name wins.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from ingest.errors import FieldError

MAX_PARAMS = 64
MAX_NAME_LEN = 64
MAX_VALUE_LEN = 2048


def _decode(raw: bytes, field: str) -> str:
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise FieldError(field, "not valid UTF-8") from None


def parse_params(raw: bytes, *, max_params: int = MAX_PARAMS, max_value_len: int = MAX_VALUE_LEN) -> dict[str, str]:
    params: dict[str, str] = {}
    if not raw:
        return params
    pairs = raw.split(b"&")
    if len(pairs) > max_params:
        raise FieldError("query", f"more than {max_params} parameters")
    for pair in pairs:
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _decode(raw_name, "query")
        if len(name) > MAX_NAME_LEN:
            raise FieldError(name[:MAX_NAME_LEN], f"parameter name longer than {MAX_NAME_LEN} characters")
        value = _decode(raw_value, name)
        if len(value) > max_value_len:
            raise FieldError(name, f"longer than {max_value_len} characters")
        params.setdefault(name, value)
    return params
