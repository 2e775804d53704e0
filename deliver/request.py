"""An HTTP request to send, and the URL as it may be logged (secrets removed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters whose values are secrets in the URLs we send (platform tokens, source keys).
_SECRET_PARAM = re.compile(r"(token|secret|key|sig|signature|password|auth|hash)", re.IGNORECASE)
REDACTED = "REDACTED"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def log_url(self) -> str:
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """The URL with every secret-looking query value and any userinfo replaced."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = [(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))
