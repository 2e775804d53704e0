"""Password hashes for the dashboard's users (``ADPULSE_DASHBOARD_USERS``).

Format: ``pbkdf2_sha256$<iterations>$<salt>$<hash>``: PBKDF2-HMAC-SHA256 (``hashlib.pbkdf2_hmac``, the
standard library), at least 100,000 iterations (600,000 by default, OWASP's figure), a 16-byte random
salt; salt and hash in unpadded URL-safe base64 (RFC 4648 section 5), so a hash holds no ``:`` or ``,``
and ``user:hash`` pairs can be listed comma-separated. ``adpulse dashboard-hash`` makes one; any tool can
(``hashlib.pbkdf2_hmac("sha256", password, salt, iterations)``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256
MIN_ITERATIONS = 100_000
SALT_BYTES = 16


class HashFormatError(ValueError):
    """Not a ``pbkdf2_sha256$iterations$salt$hash`` string."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_hash(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    if iterations < 1:
        raise ValueError("iterations must be positive")
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    """(iterations, salt, digest); raises :class:`HashFormatError` naming what is wrong."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise HashFormatError(f"expected {ALGORITHM}$<iterations>$<salt>$<hash> (make one with adpulse dashboard-hash)")
    if not parts[1].isdigit() or int(parts[1]) < MIN_ITERATIONS:
        raise HashFormatError(f"iterations must be an integer >= {MIN_ITERATIONS}")
    try:
        salt, digest = _unb64(parts[2]), _unb64(parts[3])
    except ValueError:
        raise HashFormatError("salt and hash must be URL-safe base64") from None
    if len(salt) < 8 or len(digest) != hashlib.sha256().digest_size:
        raise HashFormatError("salt must be >= 8 bytes and the hash 32 bytes")
    return int(parts[1]), salt, digest


def verify(password: str, encoded: str) -> bool:
    iterations, salt, digest = parse_hash(encoded)
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return hmac.compare_digest(candidate, digest)
