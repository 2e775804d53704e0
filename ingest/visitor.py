"""The first-party visitor id: the ``vid`` parameter (the snippet's id), else the tracking domain's cookie.

The same rule everywhere a hit arrives (pixel, beacon, click, batch): values trimmed and capped at 64
characters. ``/c`` sets the cookie (a new random id when the request has none) on its redirect.
"""

from __future__ import annotations

import uuid

from ingest.normalize import MAX_VISITOR_ID_LEN as MAX_LEN
from ingest.normalize import WHITESPACE

COOKIE = "adpulse_vid"
PARAM = "vid"
COOKIE_MAX_AGE_S = 365 * 86_400


def visitor_id(param: str | None, cookie: str | None) -> str:
    """The visitor id a request carries: ``vid`` when present, else the cookie's; ``""`` when neither.
    Trimmed of ASCII white space only, as the SQL version of the rule (``ingest.hitsql``) does."""
    for value in (param, cookie):
        found = (value or "").strip(WHITESPACE)
        if found:
            return found[:MAX_LEN]
    return ""


def from_cookie_header(header: str) -> str:
    """The ``adpulse_vid`` value of a ``Cookie`` header (the last one wins, as browsers send one)."""
    found = ""
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == COOKIE:
            found = value.strip().strip('"')
    return found[:MAX_LEN]


def new_visitor_id() -> str:
    return uuid.uuid4().hex


def set_cookie_header(value: str, *, secure: bool) -> str:
    """The ``Set-Cookie`` value ``/c`` answers with."""
    attributes = [f"{COOKIE}={value}", f"Max-Age={COOKIE_MAX_AGE_S}", "Path=/", "SameSite=None", "HttpOnly"]
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)
