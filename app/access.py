"""Who may read reports: ``/dashboard``, ``/v1/kpis`` and ``/v1/freshness`` share one rule.

- ``ADPULSE_DASHBOARD_USERS`` and/or ``ADPULSE_API_KEYS`` set: every request needs credentials, either
  HTTP basic auth as a dashboard user (password checked against its PBKDF2 hash) or an API key, as
  ``Authorization: Bearer <key>`` or as the basic-auth password (any user name; browsers can send that).
- Neither set: served only to loopback clients (127.0.0.0/8, ::1) that came directly, not through a
  proxy (a request carrying ``Forwarded``/``X-Forwarded-For``/``X-Real-IP`` is refused), so a
  development machine works out of the box and nothing is exposed by accident.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
from collections import OrderedDict

from fastapi import Request
from fastapi.responses import JSONResponse

from adpulse.passwords import verify

PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
REALM = 'Basic realm="adpulse", charset="UTF-8"'
VERIFIED_CACHE = 256  # successful (user, password) checks remembered, so PBKDF2 runs once per session


class Denied(Exception):
    """Raised by the access check; the exception handler answers with ``response``."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReaderAccess:
    def __init__(self, users: dict[str, str], api_keys: list[str]) -> None:
        self._users = dict(users)
        self._keys = [key.encode() for key in api_keys]
        self._verified: OrderedDict[bytes, None] = OrderedDict()

    @property
    def open_to_loopback(self) -> bool:
        return not self._users and not self._keys

    async def check(self, request: Request) -> None:
        """Return when the request may read reports; raise :class:`Denied` with the answer otherwise."""
        if self.open_to_loopback:
            client = request.client.host if request.client else None
            if _loopback(client) and not any(h in request.headers for h in PROXY_HEADERS):
                return
            raise Denied(JSONResponse({
                "error": "forbidden", "field": "client",
                "reason": "reports are served to loopback clients only until ADPULSE_DASHBOARD_USERS or "
                          "ADPULSE_API_KEYS is set",
            }, status_code=403))  # fmt: skip
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self._is_key(value.strip()):
            return
        if scheme.lower() == "basic":
            user, password = _basic(value.strip())
            if user is not None and password is not None and await self._allowed(user, password):
                return
        raise Denied(JSONResponse(
            {"error": "unauthorized", "field": "authorization", "reason": "dashboard user or API key required"},
            status_code=401, headers={"WWW-Authenticate": REALM},
        ))  # fmt: skip

    def _is_key(self, given: str) -> bool:
        return bool(given) and any(hmac.compare_digest(given.encode(), key) for key in self._keys)

    async def _allowed(self, user: str, password: str) -> bool:
        if self._is_key(password):
            return True
        encoded = self._users.get(user)
        if encoded is None:
            return False
        token = hashlib.sha256(f"{user}\0{password}\0{encoded}".encode()).digest()
        if token in self._verified:
            self._verified.move_to_end(token)
            return True
        if not await asyncio.to_thread(verify, password, encoded):  # PBKDF2 takes ~0.3 s: off the loop
            return False
        self._verified[token] = None
        while len(self._verified) > VERIFIED_CACHE:
            self._verified.popitem(last=False)
        return True


def _basic(value: str) -> tuple[str | None, str | None]:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)


async def require_reader(request: Request) -> None:
    """FastAPI dependency for the report endpoints."""
    access: ReaderAccess = request.app.state.reader_access
    await access.check(request)


async def denied_handler(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, Denied):
        return exc.response
    raise exc
