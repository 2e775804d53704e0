"""Click redirect targets: only http(s) URLs whose host is on the allowlist (no open redirect).

An allowlist entry ``example.com`` admits exactly that host; ``*.example.com`` admits its subdomains
(and not the bare domain). Hosts are compared after IDNA encoding and lower-casing; user information,
backslashes, control characters, percent-encoded or otherwise odd hosts are refused outright.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingest.errors import FieldError

MAX_URL_LEN = 2048
DEFAULT_CLICK_ID_PARAM = "click_id"
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def _match(host: str, entries: dict[str, str] | set[str]) -> str | None:
    """The allowlist entry admitting ``host`` (exact first, then the longest ``*.`` suffix)."""
    if host in entries:
        return host
    best = None
    for entry in entries:
        if entry.startswith("*.") and host.endswith(entry[1:]) and (best is None or len(entry) > len(best)):
            best = entry
    return best


class RedirectPolicy:
    def __init__(self, allowlist: list[str], click_id_params: dict[str, str] | None = None) -> None:
        self._allow = set(allowlist)
        self._params = dict(click_id_params or {})

    def check(self, url: str) -> str:
        """The URL if it may be redirected to, else FieldError('url', why)."""
        if not url:
            raise FieldError("url", "required")
        if len(url) > MAX_URL_LEN:
            raise FieldError("url", f"longer than {MAX_URL_LEN} characters")
        if "\\" in url or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
            raise FieldError("url", "contains backslashes, spaces or control characters")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise FieldError("url", "must be an absolute http(s) URL")
        if not parts.netloc or "@" in parts.netloc or not url.lower().startswith(f"{parts.scheme.lower()}://"):
            raise FieldError("url", "must be scheme://host/... with no user information")
        host = (parts.hostname or "").rstrip(".")
        try:
            host = host.encode("idna").decode("ascii").lower()
            _ = parts.port  # raises on a malformed port
        except (UnicodeError, ValueError):
            raise FieldError("url", "host is not a valid domain name") from None
        if not _HOSTNAME.match(host) or _match(host, self._allow) is None:
            raise FieldError("url", f"host {host[:64]!r} is not on the redirect allowlist")
        return url

    def click_id_param(self, url: str) -> str:
        """The parameter name that carries the click id to this destination."""
        host = (urlsplit(url).hostname or "").encode("idna").decode("ascii").lower()
        entry = _match(host, self._params)
        return self._params[entry] if entry else DEFAULT_CLICK_ID_PARAM


def with_params(url: str, extra: dict[str, str]) -> str:
    """``url`` with ``extra`` query parameters set (replacing same-named ones), others kept in order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query.extend(extra.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
