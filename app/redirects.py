"""Click redirect targets: only http(s) URLs whose host is on the allowlist (no open redirect).

An allowlist entry ``example.com`` admits exactly that host; ``*.example.com`` admits its subdomains
(and not the bare domain).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingest.errors import FieldError

MAX_URL_LEN = 2048


class RedirectPolicy:
    def __init__(self, allowlist: list[str]) -> None:
        self._exact = {h for h in allowlist if not h.startswith("*.")}
        self._suffixes = tuple(h[1:] for h in allowlist if h.startswith("*."))

    def host_allowed(self, host: str) -> bool:
        return host in self._exact or (bool(self._suffixes) and host.endswith(self._suffixes))

    def check(self, url: str) -> str:
        """The URL if it may be redirected to, else FieldError('url', why)."""
        if not url:
            raise FieldError("url", "required")
        if len(url) > MAX_URL_LEN:
            raise FieldError("url", f"longer than {MAX_URL_LEN} characters")
        if "\\" in url or any(ord(ch) < 0x21 for ch in url):
            raise FieldError("url", "contains backslashes, spaces or control characters")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise FieldError("url", "must be an absolute http(s) URL")
        if not parts.netloc or "@" in parts.netloc:
            raise FieldError("url", "must name a host and no user information")
        host = (parts.hostname or "").rstrip(".")
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise FieldError("url", "host is not a valid domain name") from None
        if not self.host_allowed(host):
            raise FieldError("url", f"host {host!r} is not on the redirect allowlist")
        return url


def with_params(url: str, extra: dict[str, str]) -> str:
    """``url`` with ``extra`` query parameters set (replacing same-named ones), others kept in order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    query.extend(extra.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
